package cli

// toolhost thread new / say / show against "toolhost serve" running
// in-process on plugins.hcl with the testkit plugin and a model block that
// points at a scripted OpenAI-compatible server on 127.0.0.1.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/assistant/assistanttest"
	"github.com/toolhost/toolhost/internal/testbin"
)

type thrBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *thrBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *thrBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

const thrCLIKey = "thread-cli-test-key"

// thrServe starts toolhost serve with the testkit plugin and a model block
// for the fake model, and returns the variables the admin commands need.
func thrServe(t *testing.T, fake *assistanttest.Server) map[string]string {
	t.Helper()
	bin, err := testbin.Build("internal/testplugins/testkit")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hcl := fmt.Sprintf("plugin \"testkit\" {\n  path = %q\n}\n\nmodel \"fake\" {\n  base_url = %q\n  model    = \"fake-model\"\n  timeout  = \"5s\"\n}\n", bin, fake.URL)
	cfg := filepath.Join(dir, "plugins.hcl")
	if err := os.WriteFile(cfg, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := &thrBuf{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"), "--listen", addr},
			func(k string) string { return map[string]string{"TOOLHOST_API_KEY": thrCLIKey}[k] }, out, out)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != ExitOK {
				t.Errorf("serve exited with %d:\n%s", code, out)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop:\n%s", out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up:\n%s", out)
		}
	}
	return map[string]string{"TOOLHOST_URL": "http://" + addr, "TOOLHOST_API_KEY": thrCLIKey}
}

type thrResult struct {
	code           int
	stdout, stderr string
}

func thrRun(t *testing.T, vars map[string]string, args ...string) thrResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb thrBuf
	code := Run(ctx, args, func(k string) string { return vars[k] }, &out, &errb)
	return thrResult{code, out.String(), errb.String()}
}

func thrMust(t *testing.T, r thrResult, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

func TestThreadCommands(t *testing.T) {
	fake := assistanttest.New(t)
	vars := thrServe(t, fake)

	r := thrRun(t, vars, "thread", "new", "--metadata", "user=abc123", "--metadata", "plan=pro")
	thrMust(t, r, ExitOK)
	id := strings.TrimSpace(r.stdout)
	if !regexp.MustCompile(`^thread_[0-9A-Z]{26}$`).MatchString(id) {
		t.Fatalf("thread new printed %q", r.stdout)
	}

	fake.Push(
		assistanttest.Reply{Chunks: []string{"Let me ", "echo that."}, Content: "Let me echo that.",
			Calls: []assistanttest.Call{{Name: "testkit_echo", Arguments: `{"text":"hi there"}`}},
			Check: func(t testing.TB, r assistanttest.Request) {
				if !r.Stream || len(r.Messages) != 2 || r.Messages[0].Role != "system" || r.Messages[1].Text() != "Echo hi there" {
					t.Errorf("first model request: stream %v messages %+v", r.Stream, r.Messages)
				}
			}},
		assistanttest.Reply{Chunks: []string{"It ", "said ", "hi there."}, Content: "It said hi there."},
	)
	r = thrRun(t, vars, "thread", "say", id, "Echo hi there", "--instructions", "Use the tools.", "--model", "fake")
	thrMust(t, r, ExitOK, "Let me echo that.\n", `[tool] testkit.echo {"text":"hi there"} → succeeded`, "It said hi there.\n")
	if i, j := strings.Index(r.stdout, "[tool]"), strings.Index(r.stdout, "It said"); i < 0 || j < i {
		t.Errorf("the tool line does not come before the answer:\n%s", r.stdout)
	}

	r = thrRun(t, vars, "thread", "show", id)
	thrMust(t, r, ExitOK, "thread "+id, "plan=pro", "user=abc123", "4 message(s)",
		"user: Echo hi there", `assistant calls testkit_echo {"text":"hi there"}`, `tool result (`, `{"text":"hi there"}`, "assistant: It said hi there.")
	if strings.Index(r.stdout, "user: Echo") > strings.Index(r.stdout, "assistant: It said") {
		t.Errorf("show is not oldest first:\n%s", r.stdout)
	}

	// A failing run exits 1 with the run's error; the thread keeps the message.
	fake.Push(assistanttest.Reply{Status: 503, Body: `{"error":{"message":"model is loading"}}`})
	r = thrRun(t, vars, "thread", "say", id, "again")
	thrMust(t, r, ExitFailed, "HTTP 503: model is loading")
	thrMust(t, thrRun(t, vars, "thread", "show", id), ExitOK, "5 message(s)", "user: again")

	// Usage errors, unknown threads and a wrong key.
	thrMust(t, thrRun(t, vars, "thread", "say", id), ExitUsage, "needs a thread id and a message")
	thrMust(t, thrRun(t, vars, "thread", "say", "thread_01J0000000000000000000000", "hello"), ExitUsage, "not found")
	thrMust(t, thrRun(t, vars, "thread", "show", "thread_01J0000000000000000000000"), ExitUsage, "not found")
	thrMust(t, thrRun(t, vars, "thread", "new", "--metadata", "novalue"), ExitUsage)
	thrMust(t, thrRun(t, vars, "thread", "frobnicate"), ExitUsage, "new, say, show")
	bad := map[string]string{"TOOLHOST_URL": vars["TOOLHOST_URL"], "TOOLHOST_API_KEY": "wrong"}
	thrMust(t, thrRun(t, bad, "thread", "new"), ExitAuth, "API key is not valid")
	down := map[string]string{"TOOLHOST_URL": "http://127.0.0.1:1", "TOOLHOST_API_KEY": "x"}
	thrMust(t, thrRun(t, down, "thread", "new"), ExitUnreachable, "cannot reach toolhost")
}
