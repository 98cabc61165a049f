package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// goTool finds the go command: the one on PATH, else the one of the
// toolchain that built this program.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// buildBinaries builds toolhost, the testkit plugin and the floor into dir.
func buildBinaries(ctx context.Context, repo, dir string) (toolhost, testkit, floor string, err error) {
	toolhost = filepath.Join(dir, "toolhost")
	testkit = filepath.Join(dir, "testkit")
	floor = filepath.Join(dir, "floor")
	for _, b := range []struct{ out, pkg string }{
		{toolhost, "./cmd/toolhost"}, {testkit, "./internal/testplugins/testkit"}, {floor, "./bench/floor"},
	} {
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", b.out, b.pkg)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", "", fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	return toolhost, testkit, floor, nil
}

// server is a toolhost serve or floor process started by the harness.
type server struct {
	kind  string // "toolhost" or "floor"
	cmd   *exec.Cmd
	pid   int
	base  string        // http://127.0.0.1:port
	ready time.Duration // exec to the "ready" line
	done  chan struct{} // closed when the process has exited
	kids  map[int]string
}

// live tracks every started server so an interrupt can stop them all.
var live struct {
	sync.Mutex
	servers map[*server]bool
}

type serverSpec struct {
	kind string
	bin  string
	args []string
	env  []string
	log  string // stderr goes here
}

// startServer starts the process and waits for its "ready" line.
func startServer(ctx context.Context, spec serverSpec) (*server, error) {
	logf, err := os.Create(spec.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(spec.bin, spec.args...)
	cmd.Env = append(os.Environ(), spec.env...)
	cmd.Stderr = logf
	isolate(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &server{kind: spec.kind, cmd: cmd, done: make(chan struct{})}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.pid = cmd.Process.Pid
	live.Lock()
	if live.servers == nil {
		live.servers = map[*server]bool{}
	}
	live.servers[s] = true
	live.Unlock()

	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody listens any more: drop
			}
		}
		close(lines)
		_ = cmd.Wait()
		close(s.done)
	}()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	var seen []string
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				s.stop()
				return nil, fmt.Errorf("%s exited before it was ready; stdout: %q; see %s", spec.kind, seen, spec.log)
			}
			seen = append(seen, line)
			if _, rest, ok := strings.Cut(line, "listening on http://"); ok {
				s.base = "http://" + strings.Fields(rest)[0]
			}
			if strings.TrimSpace(line) == "ready" {
				s.ready = time.Since(t0)
				if s.base == "" {
					s.stop()
					return nil, fmt.Errorf("%s said ready without a listen address: %q", spec.kind, seen)
				}
				return s, nil
			}
		case <-timeout.C:
			s.stop()
			return nil, fmt.Errorf("%s was not ready within 60s; see %s", spec.kind, spec.log)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop asks the server to stop (SIGTERM), kills it after 10 s, and then
// kills any of its plugin processes still alive. It is safe to call twice.
func (s *server) stop() {
	defer func() {
		live.Lock()
		delete(live.servers, s)
		live.Unlock()
	}()
	kids := s.kids
	if kids == nil {
		kids = children(s.pid)
	}
	if !s.exited() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.pid, syscall.SIGKILL)
			<-s.done
		}
	}
	// Plugins die with their host (parent-death signal, orphan check); make
	// sure, by pid, checking the pid still names the same program.
	deadline := time.Now().Add(2 * time.Second)
	for pid, comm := range kids {
		for time.Now().Before(deadline) && alive(pid, comm) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid, comm) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// alive reports whether pid still runs the program named comm (a zombie
// waiting to be reaped does not count).
func alive(pid int, comm string) bool {
	if procComm(pid) != comm {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// stopAll stops every server still running.
func stopAll() {
	live.Lock()
	var all []*server
	for s := range live.servers {
		all = append(all, s)
	}
	live.Unlock()
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() { defer wg.Done(); s.stop() }()
	}
	wg.Wait()
}

// children lists the processes whose parent is pid, with their names.
func children(pid int) map[int]string {
	out := map[int]string{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, _ := strconv.Atoi(f[1]); pp == pid {
			out[p] = procComm(p)
		}
	}
	return out
}

func procComm(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// peakRSS is VmHWM from /proc/PID/status, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmHWM line")
}

// memSnapshot reads the peak RSS of a server and of each child process.
// Every plugin process runs the same testkit binary, so they are told apart
// by the CPU time they used: the busiest served the load, the others idled.
func (s *server) memSnapshot() []RSSResult {
	var out []RSSResult
	if b, err := peakRSS(s.pid); err == nil {
		out = append(out, RSSResult{Target: s.kind, Process: "host", PID: s.pid, PeakBytes: b})
	}
	s.kids = children(s.pid)
	pids := make([]int, 0, len(s.kids))
	for p := range s.kids {
		pids = append(pids, p)
	}
	sort.Slice(pids, func(i, j int) bool { return cpuTicks(pids[i]) > cpuTicks(pids[j]) })
	for i, p := range pids {
		b, err := peakRSS(p)
		if err != nil {
			continue
		}
		name := "plugin process that served the load"
		if i > 0 {
			name = fmt.Sprintf("idle plugin process %d", i)
		}
		out = append(out, RSSResult{Target: s.kind, Process: name, PID: p, PeakBytes: b})
	}
	return out
}

// cpuTicks is a process's user+system CPU time in clock ticks.
func cpuTicks(pid int) int64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return u + sy
}

// cpuUsed is the CPU time a server process and its children have used.
func (s *server) cpuUsed() (host, plugins time.Duration) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	host = time.Duration(cpuTicks(s.pid)) * tick
	for p := range children(s.pid) {
		plugins += time.Duration(cpuTicks(p)) * tick
	}
	return host, plugins
}
