package api

import (
	"net/http"
	"strings"
)

func (s *server) identifyAction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Prompt *string `json:"prompt"`
		Model  string  `json:"model"`
	}
	if err := decodeObject(r, &in, false, `such as {"prompt":"send an email to ..."}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Prompt == nil || strings.TrimSpace(*in.Prompt) == "" {
		s.fail(w, r, fieldErr("prompt", "is required: say what the action should do"))
		return
	}
	out, err := s.cfg.Assistant.IdentifyRun(r.Context(), *in.Prompt, in.Model, callerOf(r), "http")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, out)
}
