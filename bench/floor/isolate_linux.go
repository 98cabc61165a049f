package main

import (
	"os/exec"
	"syscall"
)

// isolate keeps the plugin out of the terminal's process group (Ctrl-C goes
// to the harness, which stops the floor) and has the kernel kill it if the
// floor dies.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
