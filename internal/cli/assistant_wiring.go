package cli

import (
	"os"
	"time"

	"github.com/toolhost/toolhost/host/assistant"
)

// newAssistant builds the assistant service from the model blocks of
// plugins.hcl. Runs with tool_execution "client" wait for tool outputs for
// TOOLHOST_REQUIRES_ACTION_TIMEOUT (a Go duration such as "10m"; default 10
// minutes) unless the run asks for less or more with expires_after.
func newAssistant(a *app) *assistant.Service {
	var expires time.Duration
	if v := os.Getenv("TOOLHOST_REQUIRES_ACTION_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			a.log.Warn("TOOLHOST_REQUIRES_ACTION_TIMEOUT is not a positive duration such as 10m; using the default", "value", v)
		} else {
			expires = d
		}
	}
	svc := assistant.New(assistant.Options{
		Models: a.cfg.Models, Runner: a.runner, DB: a.db, Logger: a.log, ExpiresAfter: expires,
	})
	if len(a.cfg.Models) == 0 {
		a.log.Info("no model blocks in plugins.hcl: thread runs and identify are off until one is added")
	}
	return svc
}
