package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

func (s *server) welcome(w http.ResponseWriter, _ *http.Request) {
	ok(w, http.StatusOK, map[string]string{
		"message": "toolhost runner " + s.cfg.Version + " is running. See /v1/actions (with an x-api-key header) and /v1/actions/specs/openapi.",
	})
}

type healthPlugin struct {
	Name     string `json:"name"`
	Status   string `json:"status"`
	Restarts int    `json:"restarts"`
	Actions  int    `json:"actions"`
}

// health reports each plugin's state; it is public, so it shows no paths,
// reasons or configuration.
func (s *server) health(w http.ResponseWriter, _ *http.Request) {
	cat := s.runner.Catalog()
	status := "ok"
	list := []healthPlugin{}
	for _, p := range cat.Plugins {
		in := p.Info()
		st := string(in.Status)
		if st != "ready" && st != "idle" {
			status = "degraded"
		}
		list = append(list, healthPlugin{Name: p.Name, Status: st, Restarts: in.Restarts, Actions: len(p.Actions)})
	}
	out := map[string]any{"status": status, "version": s.cfg.Version, "plugins": list}
	st := storageHealth(s.runner.StorageDamage())
	if err := s.runner.StorageHealth(); err != nil {
		// The reason names the data directory and the cause (no secrets);
		// an operator needs it to act.
		if st == nil {
			st = &storageDamage{}
		}
		st.Status, st.Reason = domain.ErrorCode(err), err.Error()
	}
	if st != nil {
		out["status"], out["storage"] = "degraded", st
	}
	ok(w, http.StatusOK, out)
}

func (s *server) verifyAccess(w http.ResponseWriter, _ *http.Request) {
	ok(w, http.StatusOK, nil)
}

func (s *server) listPlugins(w http.ResponseWriter, _ *http.Request) {
	out := []pluginView{}
	for _, p := range s.runner.Catalog().Plugins {
		out = append(out, viewPlugin(p))
	}
	ok(w, http.StatusOK, out)
}

func (s *server) getPlugin(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["pluginId"]
	p := s.runner.Catalog().Plugin(id)
	if p == nil {
		s.fail(w, r, domain.Errorf(domain.CodeNotFound, "plugin %q not found", id))
		return
	}
	ok(w, http.StatusOK, viewPluginDetail(p))
}

func (s *server) listActions(w http.ResponseWriter, _ *http.Request) {
	out := []actionView{}
	for _, a := range s.runner.Catalog().Actions() {
		out = append(out, viewAction(a))
	}
	ok(w, http.StatusOK, out)
}

func (s *server) action(r *http.Request) (*core.Action, error) {
	id := mux.Vars(r)["actionId"]
	a := s.runner.Catalog().Action(id)
	if a == nil {
		return nil, domain.Errorf(domain.CodeNotFound, "action %q not found; use an id from GET /v1/actions or plugin.actionKey", id)
	}
	return a, nil
}

func (s *server) getAction(w http.ResponseWriter, r *http.Request) {
	a, err := s.action(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, viewAction(a))
}

// openAIFunctions answers the raw array of OpenAI function specs, one per
// action, named by action id, exactly in the Connery shape.
func (s *server) openAIFunctions(w http.ResponseWriter, _ *http.Request) {
	out := []map[string]any{}
	for _, a := range s.runner.Catalog().Actions() {
		out = append(out, openAIFunction(a))
	}
	writeJSON(w, http.StatusOK, out)
}

func openAIFunction(a *core.Action) map[string]any {
	props := orderedProps{}
	required := []string{}
	for _, p := range a.Input.Properties {
		prop := orderedProps{{"type", p.Type}, {"description", titled(p.Title, p.Description)}}
		if len(p.Enum) > 0 {
			prop = append(prop, kv{"enum", p.Enum})
		}
		if items := itemsOf(p.Raw); items != nil {
			prop = append(prop, kv{"items", items})
		}
		props = append(props, kv{p.Key, prop})
		if a.Input.IsRequired(p.Key) {
			required = append(required, p.Key)
		}
	}
	return map[string]any{
		"name":        a.ID,
		"description": titled(a.Title, a.Description),
		"parameters":  orderedProps{{"type", "object"}, {"properties", props}, {"required", required}},
	}
}

func titled(title, desc string) string {
	if strings.TrimSpace(desc) == "" {
		return title
	}
	return title + ": " + desc
}
