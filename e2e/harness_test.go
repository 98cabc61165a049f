package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/internal/hosttest"
	"github.com/toolhost/toolhost/internal/pgtest"
	"github.com/toolhost/toolhost/internal/testbin"
)

// testKey is the bootstrap key (TOOLHOST_API_KEY) the servers get unless a
// test asks for a first start without one.
const testKey = "th_e2e_bootstrap_key_0123456789abcdef"

// bins are the real binaries under test, built once in TestMain.
var bins struct{ toolhost, testkit, gmail, slack, web string }

func TestMain(m *testing.M) {
	bins.toolhost = testbin.MustBuild("cmd/toolhost")
	bins.testkit = testbin.MustBuild("internal/testplugins/testkit")
	bins.gmail = testbin.MustBuild("plugins/gmail")
	bins.slack = testbin.MustBuild("plugins/slack")
	bins.web = testbin.MustBuild("plugins/web")
	code := m.Run()
	stopBenchServers()
	pgtest.Stop()
	testbin.Cleanup()
	os.Exit(code)
}

// serveConfig is what goes into the generated plugins.hcl.
type serveConfig struct {
	Top           string            // top-level lines, e.g. "max_body_bytes = 1024"
	TestkitConfig map[string]string // the testkit plugin's config block
	TestkitExtra  string            // lines inside the testkit plugin block
	NoTestkit     bool
	Gmail, Slack  bool
	Raw           string // when set, the whole file, as it is
}

func (c serveConfig) hcl() string {
	if c.Raw != "" {
		return c.Raw
	}
	var b strings.Builder
	b.WriteString(c.Top + "\n")
	if !c.NoTestkit {
		fmt.Fprintf(&b, "plugin \"testkit\" {\n  path = %q\n", bins.testkit)
		if len(c.TestkitConfig) > 0 {
			keys := make([]string, 0, len(c.TestkitConfig))
			for k := range c.TestkitConfig {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b.WriteString("  config = {\n")
			for _, k := range keys {
				fmt.Fprintf(&b, "    %s = %q\n", k, c.TestkitConfig[k])
			}
			b.WriteString("  }\n")
		}
		b.WriteString(c.TestkitExtra + "\n}\n")
	}
	if c.Gmail {
		// Credentials come from env vars the test never sets: the plugin
		// loads, is misconfigured, and says which variables are missing.
		fmt.Fprintf(&b, "plugin \"gmail\" {\n  path = %q\n  config = {\n"+
			"    gmailEmailAddress = env(\"E2E_GMAIL_EMAIL_ADDRESS\")\n"+
			"    gmailAppPassword  = env(\"E2E_GMAIL_APP_PASSWORD\")\n"+
			"    senderName        = \"Assistant\"\n  }\n}\n", bins.gmail)
	}
	if c.Slack {
		fmt.Fprintf(&b, "plugin \"slack\" {\n  path = %q\n}\n", bins.slack)
	}
	return b.String()
}

type serveOpts struct {
	Config   serveConfig
	DataDir  string   // default: a new temp dir
	NoEnvKey bool     // do not set TOOLHOST_API_KEY (the first start creates a key)
	Key      string   // the key to use when NoEnvKey and the data dir already has one
	Env      []string // extra environment
	LogLevel string   // TOOLHOST_LOG_LEVEL; default "info"
	Shared   bool     // outlives tb: stopped by stopBenchServers, not by tb's cleanup
}

// proc is a running `toolhost serve`.
type proc struct {
	tb         testing.TB
	cmd        *exec.Cmd
	Pid        int
	URL        string
	Key        string
	DataDir    string
	ConfigPath string
	stdout     *capBuffer
	stderr     *capBuffer
	exited     chan struct{}
	waitErr    error
	client     *http.Client
	stopped    bool
	tmp        string // a directory of a shared server's, removed after it stops
}

// capBuffer is a goroutine-safe buffer that keeps its first head bytes
// and the last tail bytes of what was written.
type capBuffer struct {
	mu         sync.Mutex
	head, tail []byte
	max        int
	dropped    int
}

func newCapBuffer(max int) *capBuffer { return &capBuffer{max: max} }

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := len(p)
	if room := c.max - len(c.head); room > 0 {
		n := min(room, len(p))
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	if len(p) > 0 {
		c.tail = append(c.tail, p...)
		if over := len(c.tail) - c.max; over > 0 {
			c.dropped += over
			c.tail = append(c.tail[:0:0], c.tail[over:]...)
		}
	}
	return written, nil
}

func (c *capBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		return string(c.head) + fmt.Sprintf("\n[... %d bytes dropped ...]\n", c.dropped) + string(c.tail)
	}
	return string(c.head) + string(c.tail)
}

// launch starts `toolhost serve` on 127.0.0.1:0 (the kernel picks a free
// port; the server prints the one it got) without waiting for it.
func launch(tb testing.TB, o serveOpts) *proc {
	tb.Helper()
	if o.DataDir == "" {
		o.DataDir = filepath.Join(tb.TempDir(), "data")
	}
	cfgPath := filepath.Join(filepath.Dir(o.DataDir), fmt.Sprintf("plugins-%d.hcl", time.Now().UnixNano()))
	if err := os.WriteFile(cfgPath, []byte(o.Config.hcl()), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bins.toolhost, "serve", "--config", cfgPath, "--data-dir", o.DataDir, "--listen", "127.0.0.1:0")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	env = append(env, "TOOLHOST_LOG_LEVEL="+level)
	key := testKey
	if o.NoEnvKey {
		key = o.Key
	} else {
		env = append(env, "TOOLHOST_API_KEY="+testKey)
	}
	cmd.Env = append(env, o.Env...)
	p := &proc{tb: tb, cmd: cmd, Key: key, DataDir: o.DataDir, ConfigPath: cfgPath,
		stdout: newCapBuffer(1 << 20), stderr: newCapBuffer(128 << 10), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	cmd.WaitDelay = 5 * time.Second
	// If the test binary dies (a -timeout panic), the server goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p.Pid = cmd.Process.Pid
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	p.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second,
	}}
	if o.Shared {
		return p
	}
	tb.Cleanup(func() {
		p.stop(tb)
		if tb.Failed() {
			tb.Logf("toolhost serve (pid %d) stdout:\n%s", p.Pid, p.stdout.String())
			tb.Logf("toolhost serve (pid %d) stderr (tail):\n%s", p.Pid, tail(p.stderr.String(), 8000))
		}
	})
	return p
}

var (
	listenRe = regexp.MustCompile(`listening on (http://\S+)`)
	keyRe    = regexp.MustCompile(`\b(th_[A-Za-z0-9_-]{20,})`)
)

// startServe launches toolhost serve and waits for its "ready" line.
func startServe(tb testing.TB, o serveOpts) *proc {
	tb.Helper()
	p := launch(tb, o)
	if err := p.waitReady(60 * time.Second); err != nil {
		tb.Fatalf("toolhost serve did not get ready: %v\nstdout:\n%s\nstderr:\n%s", err, p.stdout.String(), tail(p.stderr.String(), 4000))
	}
	return p
}

// waitReady waits for the "ready" line and reads the URL (and a created
// key) from the start output.
func (p *proc) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		out := p.stdout.String()
		if strings.Contains(out, "\nready\n") || strings.HasPrefix(out, "ready\n") {
			m := listenRe.FindStringSubmatch(out)
			if m == nil {
				return fmt.Errorf("no listen URL in the start output")
			}
			p.URL = m[1]
			if p.Key == "" {
				if k := keyRe.FindStringSubmatch(out); k != nil {
					p.Key = k[1]
				}
			}
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before ready: %v", p.waitErr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no ready line after %s", timeout)
		}
	}
}

// wait waits up to timeout for the process to exit and returns its exit
// code (-1 when killed by a signal).
func (p *proc) wait(timeout time.Duration) (code int, exited bool) {
	select {
	case <-p.exited:
	case <-time.After(timeout):
		return 0, false
	}
	if p.waitErr == nil {
		return 0, true
	}
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		return ee.ExitCode(), true
	}
	return -1, true
}

func (p *proc) isExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *proc) signal(sig syscall.Signal) {
	if !p.isExited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// stop sends SIGTERM and waits; a process still there after 15 s is
// killed and the test fails. Safe to call more than once.
func (p *proc) stop(tb testing.TB) {
	if err := p.stopErr(); err != nil {
		tb.Error(err)
	}
}

func (p *proc) stopErr() error {
	if p.stopped {
		return nil
	}
	p.stopped = true
	defer p.client.CloseIdleConnections()
	p.signal(syscall.SIGTERM)
	if _, ok := p.wait(15 * time.Second); !ok {
		p.signal(syscall.SIGKILL)
		p.wait(5 * time.Second)
		return fmt.Errorf("toolhost serve (pid %d) did not exit within 15 s of SIGTERM; killed it", p.Pid)
	}
	return nil
}

// kill9 kills the host with SIGKILL and waits for it to be reaped.
func (p *proc) kill9(tb testing.TB) {
	tb.Helper()
	p.stopped = true
	p.signal(syscall.SIGKILL)
	if _, ok := p.wait(10 * time.Second); !ok {
		tb.Fatalf("pid %d still there 10 s after SIGKILL", p.Pid)
	}
	p.client.CloseIdleConnections()
}

// benchServers are servers shared by benchmarks (started once, stopped
// after all tests and benchmarks ran).
var (
	benchMu      sync.Mutex
	benchServers = map[string]*proc{}
)

func stopBenchServers() {
	benchMu.Lock()
	defer benchMu.Unlock()
	for name, p := range benchServers {
		if err := p.stopErr(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		if p.tmp != "" {
			os.RemoveAll(p.tmp)
		}
		delete(benchServers, name)
	}
}

// --- processes ---

// procStat reads the state and parent pid of pid from /proc.
func procStat(pid int) (state byte, ppid int, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0, 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// children lists the live processes whose parent is pid.
func children(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, ppid, ok := procStat(c); ok && ppid == pid && state != 'Z' {
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}

// pluginPIDs waits until the host has n plugin children and returns them.
func (p *proc) pluginPIDs(tb testing.TB, n int) []int {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		kids := children(p.Pid)
		if len(kids) >= n {
			return kids
		}
		if time.Now().After(deadline) {
			tb.Fatalf("host pid %d has %d child processes (%v), want %d", p.Pid, len(kids), kids, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until none of pids is alive (zombies count as gone).
func waitGone(pids []int, timeout time.Duration) (left []int) {
	deadline := time.Now().Add(timeout)
	for {
		left = left[:0]
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// toolhostCmd runs another toolhost subcommand (db check, ...).
func toolhostCmd(tb testing.TB, timeout time.Duration, args ...string) (out string, code int) {
	tb.Helper()
	cmd := exec.Command(bins.toolhost, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return buf.String(), ee.ExitCode()
		}
		if err != nil {
			tb.Fatal(err)
		}
		return buf.String(), 0
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		tb.Fatalf("toolhost %v did not finish within %s:\n%s", args, timeout, buf.String())
		return "", -1
	}
}

// --- HTTP ---

type resp = hosttest.Response

// do sends a request with the server's key unless headers override it
// ("x-api-key", "" removes the header). Transport errors fail the test.
func (p *proc) do(method, path, body string, headers ...string) resp {
	p.tb.Helper()
	return hosttest.Do(p.tb, p.api(), method, path, body, headers...)
}

// try is do that returns transport errors.
func (p *proc) try(method, path, body string, headers ...string) (resp, error) {
	var b any
	if body != "" {
		b = body
	}
	r, err := p.api().Do(context.Background(), method, path, b, client.Header(headers))
	if err != nil {
		return resp{}, err
	}
	return resp{Response: *r}, nil
}

// api is a client of the server with its key.
func (p *proc) api() *client.Client {
	return client.New(p.URL, p.Key, client.WithHTTPClient(p.client))
}

func wantStatus(tb testing.TB, r resp, status int) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// percentile returns the p-th percentile (0..1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}
