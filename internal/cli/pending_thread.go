package cli

import "github.com/toolhost/toolhost/host/assistant"

// The thread command and the assistant wiring are still being written; this
// file goes once they are.

func threadCmd(e *env, args []string) error { return fail(ExitFailed, "thread: not built yet") }

func newAssistant(a *app) *assistant.Service { return nil }
