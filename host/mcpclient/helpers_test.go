package mcpclient

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/testbin"
)

var serverBin string

func TestMain(m *testing.M) {
	if os.Getenv("MCPCLIENT_TEST_HOST") != "" {
		hostMain() // a child host for TestHostSIGKILL
		return
	}
	serverBin = testbin.MustBuild("internal/testplugins/mcpserver")
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// syncBuffer is a log sink tests read while servers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func spec(name string, env ...string) config.MCPServer {
	return config.MCPServer{Name: name, Command: []string{serverBin}, Env: env,
		Timeout: 5 * time.Second, Concurrency: 8}
}

// newSet loads specs and stops them when the test ends; logs go to the
// returned buffer.
func newSet(t *testing.T, specs ...config.MCPServer) (*Set, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	st := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
		StartTimeout: 3 * time.Second, KillGrace: 300 * time.Millisecond, Getenv: os.Getenv})
	st.Load(context.Background(), specs, time.Second)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st.Shutdown(ctx)
	})
	return st, logs
}

func server(t *testing.T, st *Set, name string) *Server {
	t.Helper()
	for _, s := range st.List() {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no server %q", name)
	return nil
}

func run(s *Server, action, input string) ([]byte, error) {
	return s.Run(context.Background(), domain.Invocation{RunID: "r1", Action: action, Input: []byte(input)})
}

func wantCode(t *testing.T, err error, code string) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	return de
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
