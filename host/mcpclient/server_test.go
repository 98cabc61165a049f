package mcpclient

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
)

func TestToolsAndResults(t *testing.T) {
	st, _ := newSet(t, spec("test", "ECHO_ENV=from-env"))
	s := server(t, st, "test")
	if in := s.Info(); in.Status != domain.PluginReady || in.PID == 0 {
		t.Fatalf("info %+v", in)
	}
	m := s.Manifest()
	types := map[string]string{}
	for _, a := range m.Actions {
		types[a.Key] = a.Type
	}
	if types["echo"] != manifest.TypeRead || types["sayText"] != manifest.TypeCreate || types["fail"] != manifest.TypeUpdate || types["addTool"] == "" {
		t.Fatalf("actions %v", types)
	}
	if m.Title != "Test MCP server" || m.Version != "1.0.0" {
		t.Fatalf("manifest %+v", m)
	}
	out, err := run(s, "echo", `{"text":"hi"}`)
	if err != nil || string(out) != `{"env":"from-env","text":"hi"}` {
		t.Fatalf("echo: %s %v", out, err)
	}
	out, err = run(s, "sayText", `{"text":"hi"}`)
	if err != nil || string(out) != `{"content":[{"text":"said: hi","type":"text"}]}` {
		t.Fatalf("say_text: %s %v", out, err)
	}
	out, err = run(s, "image", `{}`)
	if err != nil || string(out) != `{"content":[{"text":"a dot","type":"text"},{"mimeType":"image/png","size":12,"type":"image"}]}` {
		t.Fatalf("image: %s %v", out, err)
	}
	_, err = run(s, "fail", `{"text":"boom"}`)
	if de := wantCode(t, err, domain.CodeActionFailed); de.Message != "it failed: boom" {
		t.Fatalf("fail: %q", de.Message)
	}
	_, err = run(s, "nope", `{}`)
	wantCode(t, err, domain.CodeActionFailed)
}

func TestProgressAndLogEvents(t *testing.T) {
	st, _ := newSet(t, spec("test"))
	s := server(t, st, "test")
	var mu sync.Mutex
	var evs []domain.PluginEvent
	out, err := s.Run(context.Background(), domain.Invocation{RunID: "r", Action: "progress", Input: []byte(`{"steps":3}`),
		OnEvent: func(e domain.PluginEvent) { mu.Lock(); evs = append(evs, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var progress, logs int
	for _, e := range evs {
		switch e.Kind {
		case "progress":
			progress++
			if e.Fraction == nil || e.Message == "" {
				t.Errorf("progress event %+v", e)
			}
		case "log":
			logs++
			if e.Message != "steps: did step 1" && e.Message != "steps: did step 2" && e.Message != "steps: did step 3" {
				t.Errorf("log event %+v", e)
			}
		}
	}
	if progress != 3 || logs != 3 {
		t.Fatalf("%d progress and %d log events (%s): %+v", progress, logs, out, evs)
	}
}

func TestTimeoutCancelsTheCall(t *testing.T) {
	sp := spec("test")
	sp.Timeout = 300 * time.Millisecond
	st, logs := newSet(t, sp)
	s := server(t, st, "test")
	start := time.Now()
	_, err := run(s, "sleep", `{"ms":5000}`)
	wantCode(t, err, domain.CodeActionTimeout)
	if time.Since(start) > 2*time.Second {
		t.Fatalf("took %s", time.Since(start))
	}
	// notifications/cancelled reached the server: its handler stopped.
	waitFor(t, "the server to see the cancel", 2*time.Second, func() bool { return contains(logs.String(), "sleep: cancelled") })
	time.Sleep(500 * time.Millisecond) // past the kill grace: it answered, so it lives on
	if in := s.Info(); in.Restarts != 0 || in.Status != domain.PluginReady {
		t.Fatalf("info %+v", in)
	}
}

func TestIgnoredCancelKillsAndRestarts(t *testing.T) {
	sp := spec("test")
	sp.Timeout = 200 * time.Millisecond
	st, logs := newSet(t, sp)
	s := server(t, st, "test")
	pid := s.Info().PID
	_, err := run(s, "stubborn", `{"ms":10000}`)
	wantCode(t, err, domain.CodeActionTimeout)
	waitFor(t, "a restart", 5*time.Second, func() bool {
		in := s.Info()
		return in.Restarts == 1 && in.Status == domain.PluginReady && in.PID != pid
	})
	if !contains(logs.String(), "did not end a cancelled call") {
		t.Fatalf("log: %s", logs.String())
	}
	if _, err := run(s, "echo", `{"text":"again"}`); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("old process %d still alive", pid)
	}
}

func TestCancelByCaller(t *testing.T) {
	st, _ := newSet(t, spec("test"))
	s := server(t, st, "test")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	_, err := s.Run(ctx, domain.Invocation{RunID: "r", Action: "sleep", Input: []byte(`{"ms":5000}`)})
	wantCode(t, err, domain.CodeCancelled)
}

func TestKill9MidCallRestarts(t *testing.T) {
	st, _ := newSet(t, spec("test"))
	s := server(t, st, "test")
	pid := s.Info().PID
	time.AfterFunc(150*time.Millisecond, func() { kill9(pid) })
	_, err := run(s, "sleep", `{"ms":5000}`)
	wantCode(t, err, domain.CodePluginUnavailable)
	out, err := run(s, "echo", `{"text":"back"}`) // waits for the restart
	if err != nil || !contains(string(out), "back") {
		t.Fatalf("after restart: %s %v", out, err)
	}
	if in := s.Info(); in.Restarts != 1 || in.PID == pid {
		t.Fatalf("info %+v", in)
	}
}

func TestConcurrencyQueues(t *testing.T) {
	sp := spec("test")
	sp.Concurrency = 1
	sp.Timeout = 2 * time.Second
	st, _ := newSet(t, sp)
	s := server(t, st, "test")
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = run(s, "sleep", `{"ms":200}`) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 600*time.Millisecond {
		t.Fatalf("3 calls of 200ms with concurrency 1 took %s", d)
	}
	// A call that cannot get a slot before its timeout fails as a timeout.
	sp.Timeout = 300 * time.Millisecond
	st2, _ := newSet(t, sp)
	s2 := server(t, st2, "test")
	go run(s2, "sleep", `{"ms":250}`)
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := s2.Run(ctx, domain.Invocation{RunID: "q", Action: "echo", Input: []byte(`{"text":"x"}`)})
	wantCode(t, err, domain.CodeActionTimeout)
}

func TestSecretsScrubbed(t *testing.T) {
	const secret = "sk-very-secret-value-123"
	sp := spec("test", "SECRET_TOKEN="+secret)
	sp.Secrets = []string{"SECRET_TOKEN"}
	st, logs := newSet(t, sp)
	s := server(t, st, "test")
	_, err := run(s, "leak", `{}`)
	de := wantCode(t, err, domain.CodeActionFailed)
	if contains(de.Message, secret) || !contains(de.Message, "[redacted]") {
		t.Fatalf("message %q", de.Message)
	}
	waitFor(t, "stderr in the log", 2*time.Second, func() bool { return contains(logs.String(), "the token is") })
	if contains(logs.String(), secret) {
		t.Fatalf("secret in the log:\n%s", logs.String())
	}
	if !contains(logs.String(), "testmcp starting; token [redacted]") || !contains(logs.String(), "plugin=test") {
		t.Fatalf("stderr not logged under the server's name:\n%s", logs.String())
	}
}

func TestBadServersNamedOthersServe(t *testing.T) {
	junk := spec("junk", "MCPTEST_MODE=junk")
	silent := spec("silent", "MCPTEST_MODE=silent")
	crash := spec("crash", "MCPTEST_MODE=crash")
	missing := spec("missing")
	missing.Command = []string{"no-such-mcp-server-here"}
	start := time.Now()
	st, _ := newSet(t, spec("good"), junk, silent, crash, missing)
	if d := time.Since(start); d > 6*time.Second {
		t.Fatalf("loading took %s", d)
	}
	for name, want := range map[string]string{
		"junk":    "not JSON-RPC to stdout",
		"silent":  "did not answer initialize within 3s",
		"crash":   "cannot start: no database",
		"missing": `command "no-such-mcp-server-here" not found`,
	} {
		in := server(t, st, name).Info()
		if in.Status != domain.PluginFailed || !contains(in.Reason, want) {
			t.Errorf("%s: %s %q, want the reason to say %q", name, in.Status, in.Reason, want)
		}
		_, err := run(server(t, st, name), "echo", `{"text":"x"}`)
		wantCode(t, err, domain.CodePluginUnavailable)
	}
	if _, err := run(server(t, st, "good"), "echo", `{"text":"x"}`); err != nil {
		t.Fatal(err)
	}
}

func TestToolListChanged(t *testing.T) {
	changed := make(chan struct{}, 4)
	st, _ := newSet(t, spec("test"))
	st.SetOnChange(func() { changed <- struct{}{} })
	s := server(t, st, "test")
	if _, err := run(s, "addTool", `{}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(3 * time.Second):
		t.Fatal("no change reported")
	}
	out, err := run(s, "lateTool", `{}`)
	if err != nil || !contains(string(out), "late") {
		t.Fatalf("late tool: %s %v", out, err)
	}
}

func TestLazyStartsOnFirstCall(t *testing.T) {
	sp := spec("test")
	sp.Lazy = true
	st, _ := newSet(t, sp)
	s := server(t, st, "test")
	if in := s.Info(); in.Status != domain.PluginIdle || s.Manifest() == nil || in.PID != 0 {
		t.Fatalf("lazy: %+v", in)
	}
	out, err := run(s, "echo", `{"text":"wake"}`)
	if err != nil || !contains(string(out), "wake") {
		t.Fatalf("%s %v", out, err)
	}
	if s.Info().Status != domain.PluginReady {
		t.Fatalf("info %+v", s.Info())
	}
}

func TestShutdownLeavesNoProcess(t *testing.T) {
	st, _ := newSet(t, spec("test", "MCPTEST_MODE=spawn", "PATH"))
	s := server(t, st, "test")
	out, err := run(s, "whoami", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ PID, Child int }
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	leader := s.Info().PID
	group := groupMembers(leader)
	if len(group) < 4 { // shim, server, the sleep it spawned, whoami's sleep
		t.Fatalf("group %d: %v", leader, group)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st.Shutdown(ctx)
	waitFor(t, "the group to be gone", 3*time.Second, func() bool { return len(groupMembers(leader)) == 0 })
	if alive(p.PID) || alive(p.Child) {
		t.Fatalf("left behind: %d %d", p.PID, p.Child)
	}
}
