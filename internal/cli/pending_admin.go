package cli

// Admin commands still being written; this file goes once they are.

func keyCmd(e *env, args []string) error    { return fail(ExitFailed, "key: not built yet") }
func pluginCmd(e *env, args []string) error { return fail(ExitFailed, "plugin: not built yet") }
func actionCmd(e *env, args []string) error { return fail(ExitFailed, "action: not built yet") }
func runsCmd(e *env, args []string) error   { return fail(ExitFailed, "runs: not built yet") }
func dbCmd(e *env, args []string) error     { return fail(ExitFailed, "db: not built yet") }
