package supervisor_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/supervisor"
	"github.com/toolhost/toolhost/internal/testbin"
)

var bins = map[string]string{}

func TestMain(m *testing.M) {
	if os.Getenv("TOOLHOST_TEST_HOST") != "" {
		runAsHost()
		return
	}
	for _, name := range []string{"testkit", "baddef", "stdout", "nohandshake", "needsconfig", "rawproto"} {
		bins[name] = testbin.MustBuild("internal/testplugins/" + name)
	}
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

func spec(name string) config.Plugin {
	return config.Plugin{
		Name: name, Path: bins[name], Timeout: 10 * time.Second, Concurrency: 8,
		Config: map[string]string{}, ConfigEnv: map[string]string{},
		ActionTimeouts: map[string]time.Duration{},
	}
}

func newSupervisor(t testing.TB, specs ...config.Plugin) *supervisor.Supervisor {
	t.Helper()
	return newSupervisorLogging(t, testWriter{t}, hclog.Warn, specs...)
}

// newSupervisorLogging is newSupervisor with its log going to out.
func newSupervisorLogging(t testing.TB, out io.Writer, level hclog.Level, specs ...config.Plugin) *supervisor.Supervisor {
	t.Helper()
	return newSupervisorOpts(t, supervisor.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: out, Level: level})}, specs...)
}

// newSupervisorOpts is newSupervisor with opts (test timeouts unless
// opts set them; a test log unless opts has a logger).
func newSupervisorOpts(t testing.TB, opts supervisor.Options, specs ...config.Plugin) *supervisor.Supervisor {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Warn})
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 5 * time.Second
	}
	if opts.KillGrace == 0 {
		opts.KillGrace = 300 * time.Millisecond
	}
	s := supervisor.New(opts)
	s.Load(context.Background(), specs, time.Second)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func ready(t testing.TB, s *supervisor.Supervisor, name string) *supervisor.Plugin {
	t.Helper()
	p := s.Get(name)
	if p == nil {
		t.Fatalf("plugin %q not loaded", name)
	}
	if st := p.Info().Status; st != supervisor.StatusReady {
		t.Fatalf("plugin %q status %s: %s", name, st, p.Info().Reason)
	}
	return p
}

// syncBuffer is a bytes.Buffer that loggers on several goroutines may
// write to while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

func waitFor(t testing.TB, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runAsHost is the child side of TestHostKilledLeavesNoPlugin: it loads
// testkit twice, prints the plugin pids, and waits to be killed.
func runAsHost() {
	a, b := spec("testkit"), spec("testkit")
	a.Path, b.Path = os.Getenv("TOOLHOST_TEST_PLUGIN"), os.Getenv("TOOLHOST_TEST_PLUGIN")
	b.Name = "testkit2"
	s := supervisor.New(supervisor.Options{})
	s.Load(context.Background(), []config.Plugin{a, b}, time.Second)
	for _, p := range s.List() {
		fmt.Printf("pid %d\n", p.Info().PID)
	}
	time.Sleep(time.Hour)
}
