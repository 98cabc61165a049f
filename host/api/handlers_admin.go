package api

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/domain"
)

// refreshPlugins re-reads plugins.hcl and the plugin directory; runs in
// flight keep their plugin until they finish.
func (s *server) refreshPlugins(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Refresh == nil {
		s.fail(w, r, domain.Errorf(domain.CodeNotFound, "refresh is not available on this server"))
		return
	}
	if err := s.cfg.Refresh(r.Context()); err != nil {
		s.fail(w, r, &domain.Error{Code: domain.CodeInvalidRequest, Message: "refresh failed: " + err.Error(), Err: err})
		return
	}
	s.listPlugins(w, r)
}

type keyView struct {
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
	Key        string   `json:"key,omitempty"` // only in the answer that creates it
}

func viewKey(k *domain.APIKey) keyView {
	v := keyView{Name: k.Name, Prefix: k.Prefix, Scopes: k.Held(), CreatedAt: k.CreatedAt.Format(rfc3339)}
	if k.LastUsedAt != nil {
		v.LastUsedAt = k.LastUsedAt.Format(rfc3339)
	}
	return v
}

func (s *server) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.keys.ListKeys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []keyView{}
	for _, k := range keys {
		out = append(out, viewKey(k))
	}
	ok(w, http.StatusOK, out)
}

const rfc3339 = "2006-01-02T15:04:05Z07:00"

func (s *server) createKey(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"` // none: all
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		s.fail(w, r, fieldErr("name", "is required (a JSON body {\"name\":\"...\",\"scopes\":[\"read\",\"run\",\"admin\"]})"))
		return
	}
	plain, k, err := s.keys.CreateKey(r.Context(), in.Name, in.Scopes...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := viewKey(k)
	v.Key = plain
	ok(w, http.StatusCreated, v)
}

func (s *server) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := s.keys.RevokeKey(r.Context(), mux.Vars(r)["name"]); err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, nil)
}
