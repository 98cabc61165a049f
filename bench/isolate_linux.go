package main

import (
	"os/exec"
	"syscall"
)

// isolate puts a server in its own process group, so Ctrl-C reaches only
// the harness (which then stops the servers in order), and has the kernel
// kill it should the harness die without cleaning up.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
