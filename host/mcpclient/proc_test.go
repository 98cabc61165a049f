package mcpclient

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

// stat is the state and process group of pid from /proc ("" when gone).
func stat(pid int) (state string, pgid int) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	pgid, _ = strconv.Atoi(fields[2])
	return fields[0], pgid
}

// alive reports whether pid runs (a zombie is not running).
func alive(pid int) bool {
	st, _ := stat(pid)
	return st != "" && st != "Z"
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, g := stat(pid); g == pgid && st != "" && st != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

func kill9(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// hostMain is a host in a child process: it loads one spawning server,
// calls whoami, prints the group's leader pid and waits to be killed.
func hostMain() {
	st := New(Options{Getenv: os.Getenv, StartTimeout: 5 * time.Second})
	sp := config.MCPServer{Name: "test", Command: []string{os.Getenv("MCPCLIENT_TEST_HOST")}, Env: []string{"MCPTEST_MODE=spawn", "PATH"},
		Timeout: 5 * time.Second, Concurrency: 1}
	st.Load(context.Background(), []config.MCPServer{sp}, time.Second)
	s := st.List()[0]
	if _, err := run(s, "whoami", `{}`); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("leader", s.Info().PID)
	select {}
}

func TestHostSIGKILLLeavesNoProcess(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "MCPCLIENT_TEST_HOST="+serverBin)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var leader int
	if _, err := fmt.Sscanf(line, "leader %d", &leader); err != nil {
		t.Fatalf("child host said %q", line)
	}
	members := groupMembers(leader)
	if len(members) < 4 {
		t.Fatalf("group %d has %v", leader, members)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	waitFor(t, "the server's group to die with the host", 5*time.Second, func() bool { return len(groupMembers(leader)) == 0 })
}
