package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/internal/pgtest"
)

// replicaLease is the replicas' lease in these tests: short, so a killed
// replica's runs are failed soon.
const replicaLease = 2 * time.Second

// startReplicas starts n `toolhost serve` on one fresh PostgreSQL
// database, each with its own data directory, the same secret key, and the
// testkit plugin appending to one counter file (returned).
func startReplicas(t *testing.T, n int, workers int) ([]*proc, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	counter := filepath.Join(t.TempDir(), "calls")
	cfg := serveConfig{
		Top: fmt.Sprintf("store {\n  backend = \"postgres\"\n  dsn = env(\"TOOLHOST_DATABASE_URL\")\n  lease = %q\n}\n"+
			"queue {\n  workers = %d\n}", replicaLease, workers),
		TestkitConfig: map[string]string{"counterFile": counter},
	}
	env := []string{"TOOLHOST_DATABASE_URL=" + dsn, "TOOLHOST_SECRET_KEY=" + strings.Repeat("5e", 32)}
	var ps []*proc
	for i := 0; i < n; i++ {
		ps = append(ps, startServe(t, serveOpts{Config: cfg, Env: env}))
	}
	return ps, counter
}

// calls is the lines the testkit's count action appended, by text.
func calls(t *testing.T, counter string) map[string]int {
	t.Helper()
	raw, err := os.ReadFile(counter)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if l != "" {
			m[l]++
		}
	}
	return m
}

// TestReplicasShareOneDatabase drives two replicas on one database: a key
// made on one works on the other; a run streamed from one is read and
// followed to [DONE] on the other; one Idempotency-Key sent to both runs
// the action once; a thread is written from both.
func TestReplicasShareOneDatabase(t *testing.T) {
	ps, counter := startReplicas(t, 2, 2)
	a, b := ps[0], ps[1]

	r := a.do("POST", "/v1/admin/keys", `{"name":"made-on-a","scopes":["read","run"]}`)
	wantStatus(t, r, 201)
	key, _ := r.Data(t)["key"].(string)
	wantStatus(t, b.do("GET", "/v1/actions", "", "x-api-key", key), 200)
	wantStatus(t, b.do("POST", "/v1/actions/testkit.noop/run", `{}`, "x-api-key", key), 200)

	// A run streamed from a, read and followed on b while a runs it.
	id, events := startStream(t, a, "/v1/actions/testkit.chatty/run?stream=true", `{"lines":20,"delayMs":100}`)
	got := b.do("GET", "/v1/runs/"+id, "")
	wantStatus(t, got, 200)
	if st := got.Data(t)["status"]; st != "running" && st != "queued" {
		t.Fatalf("run %s read on b: %v, want it in progress", id, st)
	}
	followed := b.do("GET", "/v1/runs/"+id+"/events", "")
	wantStatus(t, followed, 200)
	body := string(followed.Body)
	if !strings.HasSuffix(strings.TrimSpace(body), "data: [DONE]") || !strings.Contains(body, "event: run.succeeded") {
		t.Fatalf("stream of %s on b does not end with the run:\n%s", id, tail(body, 2000))
	}
	if n := strings.Count(body, "event: run.log"); n != 20 {
		t.Errorf("b's stream has %d run.log events, want 20:\n%s", n, tail(body, 2000))
	}
	assertSeqsInOrder(t, body)
	<-events

	// Resumed on b from the middle with Last-Event-ID.
	resumed := b.do("GET", "/v1/runs/"+id+"/events", "", "Last-Event-ID", "5")
	if first := strings.Index(string(resumed.Body), "id: "); first < 0 || !strings.HasPrefix(string(resumed.Body)[first:], "id: 6\n") {
		t.Errorf("resumed after 5, the stream starts:\n%s", tail(string(resumed.Body), 300))
	}

	// One Idempotency-Key, sent to both at once: the plugin is called once.
	var wg sync.WaitGroup
	answers := make([]resp, 2)
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = p.do("POST", "/v1/actions/testkit.count/run", `{"text":"idem","ms":300}`, "Idempotency-Key", "same-key")
		}()
	}
	wg.Wait()
	for _, ans := range answers {
		if ans.Status != 200 && ans.Status != 409 {
			t.Fatalf("idempotent run: %d %s", ans.Status, ans.Body)
		}
	}
	again := b.do("POST", "/v1/actions/testkit.count/run", `{"text":"idem","ms":300}`, "Idempotency-Key", "same-key")
	wantStatus(t, again, 200)
	if n := calls(t, counter)["idem"]; n != 1 {
		t.Fatalf("the plugin was called %d times for one Idempotency-Key sent to both replicas", n)
	}

	// A thread written from both.
	r = a.do("POST", "/v1/threads", `{"messages":[{"role":"user","content":"from a"}]}`)
	wantStatus(t, r, 200)
	thread, _ := r.Data(t)["id"].(string)
	wantStatus(t, b.do("POST", "/v1/threads/"+thread+"/messages", `{"role":"user","content":"from b"}`), 200)
	wantStatus(t, b.do("POST", "/v1/threads/"+thread, `{"metadata":{"written":"b"}}`), 200)
	msgs := string(a.do("GET", "/v1/threads/"+thread+"/messages?order=asc", "").Body)
	if i, j := strings.Index(msgs, "from a"), strings.Index(msgs, "from b"); i < 0 || j < i {
		t.Fatalf("messages read on a: %s", msgs)
	}
	if md := string(a.do("GET", "/v1/threads/"+thread, "").Body); !strings.Contains(md, `"written":"b"`) {
		t.Fatalf("thread read on a: %s", md)
	}
}

// startStream posts a streaming run and returns its id once the first
// event names it; events is closed when the stream ends.
func startStream(t *testing.T, p *proc, path, body string) (id string, events <-chan struct{}) {
	t.Helper()
	req, err := http.NewRequest("POST", p.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-api-key", p.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		t.Fatalf("stream: HTTP %d", res.StatusCode)
	}
	br := bufio.NewReader(res.Body)
	for id == "" {
		line, err := br.ReadString('\n')
		if err != nil {
			res.Body.Close()
			t.Fatalf("stream ended before it named its run: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if i := strings.Index(data, `"run_`); i >= 0 {
				id = data[i+1 : i+1+strings.IndexByte(data[i+1:], '"')]
			}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		for {
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	return id, done
}

// assertSeqsInOrder checks that an SSE body's ids run 1, 2, 3... once each.
func assertSeqsInOrder(t *testing.T, body string) {
	t.Helper()
	want := 1
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "id: "); ok {
			if v != fmt.Sprint(want) {
				t.Fatalf("event id %s where %d was due:\n%s", v, want, tail(body, 2000))
			}
			want++
		}
	}
}

// TestReplicaKilledWithRunsInFlight kills -9 a replica running a
// non-blocking run and a stream run, with more runs queued behind every
// worker: the other replica runs the queued ones, fails the killed one's
// running runs as interrupted within the lease (plus a reaping period),
// and nothing runs twice or is left in progress. Before the kill, a queued
// run and a running one are cancelled from the replica that does not hold
// them.
func TestReplicaKilledWithRunsInFlight(t *testing.T) {
	ps, counter := startReplicas(t, 2, 1)
	a, b := ps[0], ps[1]
	post := func(p *proc, text string, ms int) string {
		r := p.do("POST", "/v1/actions/testkit.count/run?blocking=false", fmt.Sprintf(`{"text":%q,"ms":%d}`, text, ms))
		wantStatus(t, r, 202)
		return r.Data(t)["run_id"].(string)
	}
	// One long run for each replica's one worker, then three that wait.
	busy := []string{post(a, "busy-1", 10000), post(a, "busy-2", 10000)} // still running at the kill, on a loaded machine too
	waitCalls(t, counter, "busy-1", "busy-2")
	var queued []string
	for i := 1; i <= 3; i++ {
		queued = append(queued, post(a, fmt.Sprintf("queued-%d", i), 0))
	}
	streamed, _ := startStream(t, a, "/v1/actions/testkit.count/run?stream=true", `{"text":"streamed","ms":60000}`)
	waitCalls(t, counter, "streamed")
	for _, id := range queued {
		if st := b.do("GET", "/v1/runs/"+id, "").Data(t)["status"]; st != "queued" {
			t.Fatalf("run %s is %v before the kill, want queued behind the busy workers", id, st)
		}
	}
	// Cancelled on b while queued (a queued it): it never starts.
	cancelled := queued[2]
	queued = queued[:2]
	r := b.do("POST", "/v1/runs/"+cancelled+"/cancel", "")
	wantStatus(t, r, 200)
	if st := r.Data(t)["status"]; st != "cancelled" {
		t.Fatalf("cancel of queued run %s on b: %v", cancelled, st)
	}
	// A stream run a runs, cancelled from b: the plugin call is cancelled on a.
	stopped, _ := startStream(t, a, "/v1/actions/testkit.count/run?stream=true", `{"text":"cancelled-running","ms":60000}`)
	waitCalls(t, counter, "cancelled-running")
	r = b.do("POST", "/v1/runs/"+stopped+"/cancel", "")
	wantStatus(t, r, 200)
	if st := r.Data(t)["status"]; st != "cancelled" {
		t.Fatalf("cancel from b of run %s that a runs: %v", stopped, st)
	}

	a.kill9(t)
	killed := time.Now()
	end := map[string]map[string]any{streamed: waitEnded(t, b, streamed, 30*time.Second)}
	interruptedBy := time.Since(killed)
	for _, id := range append(slices.Clone(busy), queued...) {
		end[id] = waitEnded(t, b, id, 30*time.Second)
	}

	var interrupted []string
	for id, d := range end {
		e, _ := d["error"].(map[string]any)
		switch {
		case d["status"] == "succeeded":
		case d["status"] == "failed" && e["code"] == "interrupted":
			interrupted = append(interrupted, id)
		default:
			t.Errorf("run %s ended %v %v", id, d["status"], e)
		}
	}
	for _, id := range queued {
		if end[id]["status"] != "succeeded" {
			t.Errorf("queued run %s: %v, want succeeded on the replica left", id, end[id]["status"])
		}
	}
	// a ran one busy run and the streamed run: those two are interrupted.
	if len(interrupted) != 2 || !slices.Contains(interrupted, streamed) {
		t.Errorf("interrupted runs %v, want the streamed run %s and one of %v", interrupted, streamed, busy)
	}
	t.Logf("the killed replica's runs were failed as interrupted %s after the kill (lease %s)", interruptedBy.Round(time.Millisecond), replicaLease)
	if limit := 2 * replicaLease; interruptedBy > limit { // the lease, then a reaping every half lease
		t.Errorf("runs ended %s after the kill, want within %s", interruptedBy, limit)
	}
	for text, n := range calls(t, counter) {
		if n != 1 {
			t.Errorf("%s ran %d times", text, n)
		}
	}
	if n := len(calls(t, counter)); n != 6 || calls(t, counter)["queued-3"] != 0 {
		t.Errorf("%d distinct runs reached the plugin, want 6, without the cancelled queued-3: %v", n, calls(t, counter))
	}
	for _, st := range []string{"queued", "running"} {
		list := b.do("GET", "/v1/runs?status="+st, "").Body
		if strings.Contains(string(list), `"run_`) {
			t.Errorf("runs still %s after the kill: %s", st, list)
		}
	}
}

// waitCalls waits until each text has reached the plugin.
func waitCalls(t *testing.T, counter string, texts ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := calls(t, counter)
		missing := 0
		for _, s := range texts {
			if m[s] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs %v did not reach the plugin: %v", texts, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEnded polls the run on p until it is finished and returns it.
func waitEnded(t *testing.T, p *proc, id string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := p.do("GET", "/v1/runs/"+id, "").Data(t)
		switch d["status"] {
		case "succeeded", "failed", "cancelled", "timed_out", "expired":
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is still %v %s after the kill", id, d["status"], timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
