package supervisor

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in its own process group and asks the kernel to
// kill it when the thread that started it dies (see launcher).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the plugin's whole process group.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
