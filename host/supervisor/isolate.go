package supervisor

import "os/exec"

// Isolate prepares cmd as plugins are prepared: its own process group and,
// on Linux, a parent-death signal. Start cmd with StartOnLauncherThread so
// that the signal follows the host, not a thread Go may retire. Other hosted
// processes (MCP servers) use it to get the same guarantees.
func Isolate(cmd *exec.Cmd) { isolate(cmd) }

// KillGroup kills the process group that pid leads (an isolated command's).
func KillGroup(pid int) { killGroup(pid) }

// StartOnLauncherThread runs fn, which starts isolated commands, on one of
// the threads that live as long as the host.
func StartOnLauncherThread(fn func()) { onLauncherThread(fn) }
