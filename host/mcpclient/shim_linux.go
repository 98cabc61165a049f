package mcpclient

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

// shimEnv marks a process as the shim: the host binary run again between
// the host and a server's command.
//
// The parent-death signal reaches only the process the host started, not
// what that process started (npx → node, uvx → python). So the host starts
// itself as a shim, in the server's new process group, with SIGTERM as its
// parent-death signal; the shim runs the command on the same stdin, stdout
// and stderr, and when the host dies (even by SIGKILL) it kills the whole
// group, itself included. Processes that leave the group (setsid) are out
// of reach.
const shimEnv = "TOOLHOST_MCP_SHIM"

func init() {
	if os.Getenv(shimEnv) == "1" {
		os.Exit(runShim(os.Args[1:]))
	}
}

func runShim(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "toolhost mcp shim: no command")
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		<-sig
		_ = syscall.Kill(0, syscall.SIGKILL) // the whole group, the shim too
	}()
	runtime.LockOSThread() // the child's parent-death signal follows this thread
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = withoutShim(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot run %s: %v\n", args[0], err)
		return 127
	}
	err := cmd.Wait()
	// The server is gone: so is what it left in the group, even when the
	// host's death closed its stdin and it exited before the shim saw
	// SIGTERM. The shim goes with them (its exit status is not needed:
	// the host reads the server's stderr).
	if exit, ok := err.(*exec.ExitError); ok {
		fmt.Fprintf(os.Stderr, "(the MCP server exited: %v)\n", exit)
	}
	_ = syscall.Kill(0, syscall.SIGKILL)
	return 1
}

func withoutShim(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, shimEnv+"=") {
			out = append(out, e)
		}
	}
	return out
}

// command is the exec.Cmd that runs argv as a server: through the shim
// (see shimEnv), in a new process group whose leader gets SIGTERM when
// the host dies.
func command(argv, env []string) (*exec.Cmd, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the toolhost binary for the process shim: %w", err)
	}
	cmd := exec.Command(self, argv...)
	cmd.Env = append(env, shimEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return cmd, nil
}
