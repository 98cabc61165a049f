package supervisor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
)

func run(t testing.TB, p *supervisor.Plugin, action, input string) ([]byte, error) {
	t.Helper()
	return p.Run(context.Background(), supervisor.Call{RunID: "run_test", Action: action, Input: []byte(input)})
}

func wantCode(t *testing.T, err error, code string, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s error, got success", code)
	}
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("want code %s, got %s: %v", code, got, err)
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Fatalf("error %q does not mention %q", err, c)
		}
	}
}

func TestDescribe(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	m := p.Manifest()
	if m.Name != "testkit" || len(m.Actions) < 10 {
		t.Fatalf("manifest: %+v", m)
	}
	if p.Info().PID == 0 {
		t.Fatal("no pid")
	}
}

func TestRunEchoWithConfig(t *testing.T) {
	sp := spec("testkit")
	sp.Config["greeting"] = "hello"
	s := newSupervisor(t, sp)
	out, err := run(t, ready(t, s, "testkit"), "echo", `{"text":"world"}`)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"text":"hello world"}` {
		t.Fatalf("output %s", out)
	}
}

func TestStreamedLogsAndProgress(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	var mu sync.Mutex
	var events []supervisor.Event
	var arrived []time.Time
	start := time.Now()
	_, err := p.Run(context.Background(), supervisor.Call{Action: "chatty", Input: []byte(`{"lines":3,"delayMs":100}`),
		OnEvent: func(e supervisor.Event) {
			mu.Lock()
			events = append(events, e)
			arrived = append(arrived, time.Now())
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if len(events) != 6 {
		t.Fatalf("want 3 logs and 3 progress events, got %d: %+v", len(events), events)
	}
	if events[0].Kind != "log" || events[0].Message != "line 1" || !strings.Contains(string(events[0].Fields), `"i":1`) {
		t.Fatalf("first event %+v", events[0])
	}
	if events[5].Kind != "progress" || *events[5].Fraction != 1 {
		t.Fatalf("last event %+v", events[5])
	}
	// Live, not batched at the end: the first line came well before the end.
	if end.Sub(arrived[0]) < 150*time.Millisecond {
		t.Fatalf("first event arrived %s after start, run ended %s after start", arrived[0].Sub(start), end.Sub(start))
	}
}

func TestCancelReachesPluginFast(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	ctx, cancel := context.WithCancel(context.Background())
	var cancelledAt time.Time
	go func() { time.Sleep(150 * time.Millisecond); cancelledAt = time.Now(); cancel() }()
	_, err := p.Run(ctx, supervisor.Call{Action: "sleep", Input: []byte(`{"ms":10000}`)})
	took := time.Since(cancelledAt)
	wantCode(t, err, domain.CodeCancelled)
	if took > 100*time.Millisecond {
		t.Fatalf("run returned %s after cancel", took)
	}
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatalf("plugin unusable after cancel: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	sp := spec("testkit")
	sp.ActionTimeouts["sleep"] = 200 * time.Millisecond
	s := newSupervisor(t, sp)
	p := ready(t, s, "testkit")
	start := time.Now()
	_, err := run(t, p, "sleep", `{"ms":5000}`)
	wantCode(t, err, domain.CodeActionTimeout, "200ms")
	if took := time.Since(start); took > time.Second {
		t.Fatalf("timeout took %s", took)
	}
	pid := p.Info().PID
	if _, err := run(t, p, "noop", `{}`); err != nil || p.Info().PID != pid {
		t.Fatalf("a well-behaved timeout must not restart the plugin: %v", err)
	}
}

func TestIgnoredCancellationKillsAndRestarts(t *testing.T) {
	sp := spec("testkit")
	sp.ActionTimeouts["stubborn"] = 200 * time.Millisecond
	s := newSupervisor(t, sp)
	p := ready(t, s, "testkit")
	pid := p.Info().PID
	_, err := run(t, p, "stubborn", `{"ms":10000}`)
	wantCode(t, err, domain.CodeActionTimeout, "restarted")
	waitFor(t, "restart", 5*time.Second, func() bool {
		in := p.Info()
		return in.Status == supervisor.StatusReady && in.PID != 0 && in.PID != pid
	})
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatal(err)
	}
}

func TestPanicFailsRunKeepsProcess(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	pid := p.Info().PID
	_, err := run(t, p, "panic", `{}`)
	wantCode(t, err, domain.CodeActionFailed, "kaboom")
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatal(err)
	}
	if p.Info().PID != pid || syscall.Kill(pid, 0) != nil {
		t.Fatal("plugin process did not survive the panic")
	}
}

func TestKill9MidRun(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	pid := p.Info().PID
	go func() { time.Sleep(150 * time.Millisecond); syscall.Kill(pid, syscall.SIGKILL) }()
	_, err := run(t, p, "sleep", `{"ms":5000}`)
	wantCode(t, err, domain.CodePluginUnavailable, "testkit")
	waitFor(t, "restart", 5*time.Second, func() bool {
		in := p.Info()
		return in.Status == supervisor.StatusReady && in.PID != pid && in.PID != 0
	})
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatalf("run after restart: %v", err)
	}
	if p.Info().Restarts != 1 {
		t.Fatalf("restarts = %d", p.Info().Restarts)
	}
}

func TestCrashDuringRunThenRecovers(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	_, err := run(t, p, "crash", `{"ms":10}`)
	wantCode(t, err, domain.CodePluginUnavailable)
	// The next run waits for the restart rather than failing.
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatalf("next run: %v", err)
	}
}

func TestStartFailuresNameThePlugin(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notaplugin")
	os.WriteFile(text, []byte("just some text\n"), 0o755)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho not a plugin >&2\nexit 4\n"), 0o755)

	pinned := spec("testkit")
	pinned.Name, pinned.SHA256 = "pinned", strings.Repeat("ab", 32)
	cases := []struct {
		spec config.Plugin
		want []string
	}{
		{pinned, []string{`"pinned"`, "checksum mismatch", strings.Repeat("ab", 32), "got "}},
		{config.Plugin{Name: "text", Path: text}, []string{`"text"`, "not an executable plugin"}},
		{config.Plugin{Name: "script", Path: script}, []string{`"script"`, "exited before its handshake", "not a plugin"}},
		{spec("stdout"), []string{`"stdout"`, "hello from a chatty plugin", "stdout before its handshake"}},
		{spec("nohandshake"), []string{`"nohandshake"`, "start timeout"}},
		{spec("baddef"), []string{`"baddef"`, "bad definition", "duplicate key", "title is empty"}},
		{config.Plugin{Name: "missing", Path: filepath.Join(dir, "nope")}, []string{`"missing"`, "no such file"}},
	}
	specs := []config.Plugin{spec("testkit")}
	for _, c := range cases {
		c.spec.Timeout, c.spec.Concurrency = time.Second, 1
		specs = append(specs, c.spec)
	}
	s := supervisor.New(supervisor.Options{StartTimeout: 1500 * time.Millisecond})
	defer s.Shutdown(context.Background())
	s.Load(context.Background(), specs, time.Second)
	for _, c := range cases {
		in := s.Get(c.spec.Name).Info()
		if in.Status != supervisor.StatusFailed {
			t.Errorf("%s: status %s, want failed", c.spec.Name, in.Status)
		}
		for _, w := range c.want {
			if !strings.Contains(in.Reason, w) {
				t.Errorf("%s: reason %q does not mention %q", c.spec.Name, in.Reason, w)
			}
		}
		_, err := run(t, s.Get(c.spec.Name), "noop", `{}`)
		if domain.ErrorCode(err) != domain.CodePluginUnavailable {
			t.Errorf("%s: run on failed plugin: %v", c.spec.Name, err)
		}
	}
	if _, err := run(t, ready(t, s, "testkit"), "noop", `{}`); err != nil {
		t.Fatalf("healthy plugin stopped serving: %v", err)
	}
}

func TestMisconfiguredPluginNamesKeysAndEnv(t *testing.T) {
	sp := spec("needsconfig")
	sp.Config = map[string]string{"region": "", "apiToken": ""}
	sp.ConfigEnv = map[string]string{"apiToken": "NEEDS_TOKEN"}
	s := newSupervisor(t, sp)
	p := s.Get("needsconfig")
	in := p.Info()
	if in.Status != supervisor.StatusMisconfigured || len(p.Manifest().Actions) != 1 {
		t.Fatalf("status %s, manifest %v", in.Status, p.Manifest())
	}
	_, err := run(t, p, "noop", `{}`)
	wantCode(t, err, domain.CodeMisconfigured, "apiToken (from env NEEDS_TOKEN", "region")
}

func TestPluginGetsOnlyDeclaredEnv(t *testing.T) {
	t.Setenv("TOOLHOST_SHOULD_NOT_LEAK", "leak")
	t.Setenv("TOOLHOST_PASSED", "passed")
	sp := spec("testkit")
	sp.Env = []string{"TOOLHOST_PASSED", "FIXED=1"}
	s := newSupervisor(t, sp)
	out, err := run(t, ready(t, s, "testkit"), "env", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Env []string }
	json.Unmarshal(out, &got)
	joined := strings.Join(got.Env, "\n")
	// Env values are secrets: what the plugin returns has them replaced
	// (a value under redact.MinLen, such as FIXED's, is left as it is).
	if strings.Contains(joined, "leak") || !strings.Contains(joined, "TOOLHOST_PASSED=[redacted]") || !strings.Contains(joined, "FIXED=1") {
		t.Fatalf("env:\n%s", joined)
	}
}

func TestConcurrencyLimitQueuesThenTimesOut(t *testing.T) {
	sp := spec("testkit")
	sp.Concurrency = 1
	sp.ActionTimeouts["noop"] = 100 * time.Millisecond
	s := newSupervisor(t, sp)
	p := ready(t, s, "testkit")
	done := make(chan error)
	go func() { _, err := run(t, p, "sleep", `{"ms":400}`); done <- err }()
	time.Sleep(50 * time.Millisecond)
	_, err := run(t, p, "noop", `{}`)
	wantCode(t, err, domain.CodeActionTimeout, "free slot", "concurrency 1")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A waiting call that fits in its timeout gets the slot.
	go func() { _, err := run(t, p, "sleep", `{"ms":50}`); done <- err }()
	time.Sleep(10 * time.Millisecond)
	if _, err := run(t, p, "sleep", `{"ms":1}`); err != nil {
		t.Fatal(err)
	}
	<-done
}

func TestMessageOverLimitFailsClearly(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	start := time.Now()
	_, err := run(t, p, "big", `{"bytes":17000000}`)
	if err == nil || !strings.Contains(err.Error(), "16 MiB") {
		t.Fatalf("want a 16 MiB limit error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("over-limit message took too long")
	}
	big := `{"text":"` + strings.Repeat("y", 17<<20) + `"}`
	_, err = run(t, p, "echo", big)
	if err == nil || !strings.Contains(err.Error(), "16 MiB") {
		t.Fatalf("want a 16 MiB limit error for input, got %v", err)
	}
	if _, err := run(t, p, "big", `{"bytes":8000000}`); err != nil {
		t.Fatalf("8 MB output should pass: %v", err)
	}
}

func TestBadOutputFails(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	_, err := run(t, ready(t, s, "testkit"), "badOutput", `{}`)
	wantCode(t, err, domain.CodeOutputInvalid, "value")
}

func TestReloadKeepsInFlightRuns(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	done := make(chan error)
	go func() { _, err := run(t, p, "sleep", `{"ms":500}`); done <- err }()
	time.Sleep(100 * time.Millisecond)
	changed := spec("testkit")
	changed.Config["greeting"] = "hi"
	changed.Concurrency = 4 // not only the configuration: a new process
	s.Load(context.Background(), []config.Plugin{changed}, 5*time.Second)
	if s.Get("testkit") == p {
		t.Fatal("changed spec kept the old plugin")
	}
	if err := <-done; err != nil {
		t.Fatalf("in-flight run was dropped: %v", err)
	}
	out, err := run(t, ready(t, s, "testkit"), "echo", `{"text":"x"}`)
	if err != nil || string(out) != `{"text":"hi x"}` {
		t.Fatalf("after reload: %s %v", out, err)
	}
	waitFor(t, "old process gone", 3*time.Second, func() bool { return syscall.Kill(p.Info().PID, 0) != nil })
}

// TestReloadReconfiguresInPlace: a reload that changes only the
// configuration gives the running process the new values (Configure):
// same plugin, same process, the run in flight finishes with the old
// values, the next run sees the new ones, and a configuration that breaks
// a requirement makes the plugin misconfigured, and a fixed one ready.
func TestReloadReconfiguresInPlace(t *testing.T) {
	s := newSupervisor(t, spec("testkit"))
	p := ready(t, s, "testkit")
	pid := p.Info().PID
	done := make(chan error)
	go func() { _, err := run(t, p, "sleep", `{"ms":500}`); done <- err }()
	time.Sleep(100 * time.Millisecond)
	changed := spec("testkit")
	changed.Config["greeting"] = "hi"
	s.Load(context.Background(), []config.Plugin{changed}, 5*time.Second)
	if s.Get("testkit") != p || p.Info().PID != pid {
		t.Fatalf("a configuration change replaced the plugin (pid %d, was %d)", p.Info().PID, pid)
	}
	out, err := run(t, ready(t, s, "testkit"), "echo", `{"text":"x"}`)
	if err != nil || string(out) != `{"text":"hi x"}` {
		t.Fatalf("after reconfiguring: %s %v", out, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("in-flight run was dropped: %v", err)
	}

	nc := spec("needsconfig")
	nc.Config = map[string]string{"apiToken": "tok-0123456789", "region": "eu"}
	s.Load(context.Background(), []config.Plugin{nc}, time.Second)
	np := ready(t, s, "needsconfig")
	broken := spec("needsconfig")
	broken.Config = map[string]string{"apiToken": "tok-0123456789"}
	s.Load(context.Background(), []config.Plugin{broken}, time.Second)
	if in := np.Info(); s.Get("needsconfig") != np || in.Status != supervisor.StatusMisconfigured || !strings.Contains(in.Reason, "region") {
		t.Fatalf("after dropping region: %+v", in)
	}
	_, err = run(t, np, "noop", `{}`)
	wantCode(t, err, domain.CodeMisconfigured, "region")
	s.Load(context.Background(), []config.Plugin{nc}, time.Second)
	if _, err := run(t, ready(t, s, "needsconfig"), "noop", `{}`); err != nil {
		t.Fatalf("after restoring region: %v", err)
	}
}

// TestPluginSaysWhatTheSDKWouldNot: a plugin written against the
// protocol returns an error code the host does not know, an error with no
// code, and output that is not JSON; each is a clear failure, and the
// plugin keeps serving.
func TestPluginSaysWhatTheSDKWouldNot(t *testing.T) {
	s := newSupervisor(t, spec("rawproto"))
	p := ready(t, s, "rawproto")
	_, err := run(t, p, "unknownCode", `{}`)
	wantCode(t, err, domain.CodeActionFailed, "a code from the future")
	_, err = run(t, p, "noCode", `{}`)
	wantCode(t, err, domain.CodeActionFailed, "failed without a code")
	_, err = run(t, p, "garbage", `{}`)
	wantCode(t, err, domain.CodeOutputInvalid, "not JSON")
	_, err = run(t, p, "invalid", `{}`)
	wantCode(t, err, domain.CodeInvalidInput, "too short")
	if f := domain.AsError(err); len(f.Fields) != 1 || f.Fields[0].Field != "name" {
		t.Fatalf("fields %+v", f.Fields)
	}
	if out, err := run(t, p, "greet", `{"name":"ada"}`); err != nil || string(out) != `{"greeting":" ada (checked)"}` {
		t.Fatalf("greet: %s %v", out, err)
	}
}

// TestProtocolV1PluginStillRuns: a plugin that speaks protocol version 1
// (built with the sdk before version 2) gets its configuration with every
// run, including after a reload changed it, and its string error codes
// still map.
func TestProtocolV1PluginStillRuns(t *testing.T) {
	sp := spec("rawproto")
	sp.Env = []string{"TOOLHOST_TEST_PROTOCOL=1"}
	sp.Config = map[string]string{"greeting": "hello"}
	s := newSupervisor(t, sp)
	p := ready(t, s, "rawproto")
	if out, err := run(t, p, "greet", `{"name":"ada"}`); err != nil || string(out) != `{"greeting":"hello ada"}` {
		t.Fatalf("greet: %s %v", out, err)
	}
	_, err := run(t, p, "invalid", `{}`)
	wantCode(t, err, domain.CodeInvalidInput, "too short")
	_, err = run(t, p, "unknownCode", `{}`)
	wantCode(t, err, domain.CodeInvalidInput, "a code from the future") // v1 reads the string
	changed := spec("rawproto")
	changed.Env, changed.Config = sp.Env, map[string]string{"greeting": "hi"}
	s.Load(context.Background(), []config.Plugin{changed}, time.Second)
	if s.Get("rawproto") != p {
		t.Fatal("a configuration change replaced the plugin")
	}
	if out, err := run(t, p, "greet", `{"name":"ada"}`); err != nil || string(out) != `{"greeting":"hi ada"}` {
		t.Fatalf("greet after reload: %s %v", out, err)
	}
}

type memCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *memCache) GetManifest(_ context.Context, sum string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[sum], nil
}

func (c *memCache) PutManifest(_ context.Context, sum string, raw []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[sum] = raw
	return nil
}

func TestLazyPluginStartsOnFirstRun(t *testing.T) {
	cache := &memCache{m: map[string][]byte{}}
	sp := spec("testkit")
	sp.Lazy = true
	first := supervisor.New(supervisor.Options{Cache: cache})
	first.Load(context.Background(), []config.Plugin{sp}, time.Second)
	first.Shutdown(context.Background())
	if len(cache.m) != 1 {
		t.Fatalf("manifest not cached: %d", len(cache.m))
	}
	s := supervisor.New(supervisor.Options{Cache: cache})
	defer s.Shutdown(context.Background())
	s.Load(context.Background(), []config.Plugin{sp}, time.Second)
	p := s.Get("testkit")
	if in := p.Info(); in.Status != supervisor.StatusIdle || in.PID != 0 || p.Manifest() == nil {
		t.Fatalf("lazy plugin: %+v", in)
	}
	if _, err := run(t, p, "noop", `{}`); err != nil {
		t.Fatal(err)
	}
	if p.Info().PID == 0 {
		t.Fatal("no process after first run")
	}
}

func TestHostKilledLeavesNoPlugin(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TOOLHOST_TEST_HOST=1", "TOOLHOST_TEST_PLUGIN="+bins["testkit"])
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	sc := bufio.NewScanner(out)
	for len(pids) < 2 && sc.Scan() {
		var pid int
		if _, err := fmtSscanf(sc.Text(), &pid); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 2 {
		cmd.Process.Kill()
		t.Fatalf("child host did not report two plugin pids: %v", pids)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("plugin %d not running before the kill: %v", pid, err)
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitFor(t, "plugins to die with their host", 3*time.Second, func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

// alive reports whether pid is a live process (a zombie awaiting its reaper
// counts as dead).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] != "Z"
}

// TestPluginOutputIsLogged: what a serving plugin prints to os.Stdout and
// os.Stderr reaches the host's log line by line, its secrets scrubbed.
func TestPluginOutputIsLogged(t *testing.T) {
	const token = "tok-77c0ffee"
	var logs syncBuffer
	sp := spec("testkit")
	sp.Config = map[string]string{"token": token}
	s := newSupervisorLogging(t, &logs, hclog.Info, sp)
	if _, err := run(t, ready(t, s, "testkit"), "print", `{}`); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`plugin output: plugin=testkit stream=stdout line="hello on stdout"`,
		`plugin output: plugin=testkit stream=stderr line="token is [redacted]"`,
		`plugin output: plugin=testkit stream=stderr line="no newline at the end, until now"`,
	}
	waitFor(t, "the printed lines in the log", 5*time.Second, func() bool {
		for _, w := range want {
			if !strings.Contains(logs.String(), w) {
				return false
			}
		}
		return true
	})
	if strings.Contains(logs.String(), token) {
		t.Fatalf("the token reached the log:\n%s", logs.String())
	}
}

// TestPluginStderrIsScrubbed: a plugin that prints its secret configuration
// value to stderr, past the sdk's own scrubbing, and exits: neither the
// relayed stderr line, nor the restart warning with its last words, nor the
// run's error carries the value.
func TestPluginStderrIsScrubbed(t *testing.T) {
	const token = "tok-3f9a1c77e2"
	var logs syncBuffer
	sp := spec("testkit")
	sp.Config = map[string]string{"token": token, "greeting": "hi"}
	s := newSupervisorLogging(t, &logs, hclog.Debug, sp)
	p := ready(t, s, "testkit")
	_, err := run(t, p, "leak", `{}`)
	wantCode(t, err, domain.CodePluginUnavailable)
	waitFor(t, "the restart warning", 5*time.Second, func() bool {
		return strings.Contains(logs.String(), "plugin process exited; restarting")
	})
	out := logs.String()
	if strings.Contains(out, token) || strings.Contains(err.Error(), token) {
		t.Fatalf("the token reached the host's log or the error:\n%s\n%v", out, err)
	}
	if !strings.Contains(out, "panic: cannot use token [redacted]") {
		t.Fatalf("the plugin's stderr line is not in the log, scrubbed:\n%s", out)
	}
}
