//go:build !linux

package mcpclient

import (
	"os/exec"

	"github.com/toolhost/toolhost/host/supervisor"
)

// command runs argv in its own process group (no parent-death signal off
// Linux: a host killed with SIGKILL leaves the server running).
func command(argv, env []string) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	supervisor.Isolate(cmd)
	return cmd, nil
}
