package api

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/client"
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

type keyView = client.Key

func viewKey(k *domain.APIKey) keyView {
	return client.NewKey(k.Name, k.Prefix, k.Held(), k.CreatedAt, k.LastUsedAt)
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

func (s *server) createKey(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Name   string    `json:"name"`
		Scopes *[]string `json:"scopes"` // absent: all
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
		s.fail(w, r, fieldErr("name", "is required (a JSON body {\"name\":\"...\",\"scopes\":[\"read\",\"run\"]})"))
		return
	}
	var scopes []string
	if in.Scopes != nil {
		if len(*in.Scopes) == 0 {
			s.fail(w, r, fieldErr("scopes", "must name at least one scope (read, run, admin, audit); leave it out for all of them"))
			return
		}
		scopes = *in.Scopes
	}
	plain, k, err := s.keys.CreateKey(r.Context(), in.Name, scopes...)
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
