package cli

// Commands still being written; each helper replaces its entry and removes
// it from this file.

func keyCmd(e *env, args []string) error    { return fail(ExitFailed, "key: not built yet") }
func pluginCmd(e *env, args []string) error { return fail(ExitFailed, "plugin: not built yet") }
func actionCmd(e *env, args []string) error { return fail(ExitFailed, "action: not built yet") }
func runsCmd(e *env, args []string) error   { return fail(ExitFailed, "runs: not built yet") }
func dbCmd(e *env, args []string) error     { return fail(ExitFailed, "db: not built yet") }
func threadCmd(e *env, args []string) error { return fail(ExitFailed, "thread: not built yet") }

func newThreadRoutes(a *app) threadRoutes { return nil }
