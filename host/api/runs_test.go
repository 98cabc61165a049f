package api_test

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
)

func runID(t *testing.T, r resp) string {
	t.Helper()
	return r.JSON(t)["data"].(map[string]any)["run_id"].(string)
}

func (e *env) waitStatus(id string, want ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		run := e.do("GET", "/v1/runs/"+id, "").JSON(e.t)["data"].(map[string]any)
		for _, w := range want {
			if run["status"] == w {
				return run
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("run %s never reached %v", id, want)
	return nil
}

func TestNonBlockingRun(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v1/actions/testkit.sleep/run?blocking=false", "/v1/actions/testkit.sleep/run"} {
		body := `{"ms":100}`
		if !strings.Contains(path, "blocking") {
			body = `{"ms":100,"blocking":false}`
		}
		r := e.do("POST", path, body)
		e.wantStatus(r, 202)
		data := r.JSON(t)["data"].(map[string]any)
		if data["status"] != "queued" {
			t.Fatalf("202 body %s", r.Body)
		}
		run := e.waitStatus(data["run_id"].(string), "succeeded")
		if run["output"].(map[string]any)["sleptMs"].(float64) < 100 {
			t.Fatalf("run %v", run)
		}
	}
}

func TestStreamedRunEventOrder(t *testing.T) {
	e := newEnv(t)
	for _, how := range []struct {
		path, body string
		headers    []string
	}{
		{"/v1/actions/testkit.chatty/run?stream=true", `{"lines":3}`, nil},
		{"/v1/actions/testkit.chatty/run", `{"lines":3,"stream":true}`, nil},
		{"/v1/actions/testkit.chatty/run", `{"lines":3}`, []string{"Accept", "text/event-stream"}},
	} {
		r := e.do("POST", how.path, how.body, how.headers...)
		e.wantStatus(r, 200)
		if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		got := strings.Join(eventNames(parseSSE(string(r.Body))), ",")
		want := "run.created,run.running,run.log,run.progress,run.log,run.progress,run.log,run.progress,run.output,run.succeeded,[DONE]"
		if got != want {
			t.Fatalf("events\n got %s\nwant %s", got, want)
		}
	}
}

func TestStreamedFailureAndLiveLogs(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/actions/testkit.fail/run?stream=true", `{}`)
	got := strings.Join(eventNames(parseSSE(string(r.Body))), ",")
	if got != "run.created,run.running,run.failed,[DONE]" {
		t.Fatalf("events %s", got)
	}
	// Lines arrive while the run is still going.
	req, _ := http.NewRequest("POST", e.URL+"/v1/actions/testkit.chatty/run?stream=true", strings.NewReader(`{"lines":3,"delayMs":200}`))
	req.Header.Set("x-api-key", testKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start := time.Now()
	sc := bufio.NewScanner(res.Body)
	var firstLog time.Duration
	for sc.Scan() {
		if sc.Text() == "event: run.log" && firstLog == 0 {
			firstLog = time.Since(start)
		}
		if sc.Text() == "data: [DONE]" {
			break
		}
	}
	if total := time.Since(start); firstLog == 0 || total-firstLog < 300*time.Millisecond {
		t.Fatalf("first log at %s of %s: not live", firstLog, total)
	}
}

func TestEventsReplayAndResume(t *testing.T) {
	e := newEnv(t)
	id := runID(t, e.do("POST", "/v1/actions/testkit.chatty/run", `{"lines":2}`))
	all := parseSSE(string(e.do("GET", "/v1/runs/"+id+"/events", "").Body))
	if strings.Join(eventNames(all), ",") != "run.created,run.running,run.log,run.progress,run.log,run.progress,run.output,run.succeeded,[DONE]" {
		t.Fatalf("replay %v", eventNames(all))
	}
	for i, ev := range all[:len(all)-1] {
		if ev.ID != itoa(i+1) {
			t.Fatalf("event %d has id %q", i, ev.ID)
		}
	}
	rest := parseSSE(string(e.do("GET", "/v1/runs/"+id+"/events", "", "Last-Event-ID", "5").Body))
	if strings.Join(eventNames(rest), ",") != "run.progress,run.output,run.succeeded,[DONE]" || rest[0].ID != "6" {
		t.Fatalf("resume after 5: %v", eventNames(rest))
	}
	e.wantStatus(e.do("GET", "/v1/runs/"+id+"/events", "", "Last-Event-ID", "x"), 400)
}

func TestEventsFollowALiveRun(t *testing.T) {
	e := newEnv(t)
	id := runID(t, e.do("POST", "/v1/actions/testkit.chatty/run?blocking=false", `{"lines":3,"delayMs":100}`))
	r := e.do("GET", "/v1/runs/"+id+"/events", "")
	names := eventNames(parseSSE(string(r.Body)))
	if len(names) < 3 || names[len(names)-1] != "[DONE]" || names[len(names)-2] != "run.succeeded" {
		t.Fatalf("follow: %v", names)
	}
}

func TestCancelRunningRunReachesPluginFast(t *testing.T) {
	e := newEnv(t, envOptions{mutate: func(p *config.Plugin) { p.Concurrency = 1 }})
	id := runID(t, e.do("POST", "/v1/actions/testkit.sleep/run?blocking=false", `{"ms":20000}`))
	e.waitStatus(id, "running")
	start := time.Now()
	r := e.do("POST", "/v1/runs/"+id+"/cancel", "")
	took := time.Since(start)
	e.wantStatus(r, 200)
	if r.JSON(t)["data"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel answer %s", r.Body)
	}
	if took > 100*time.Millisecond {
		t.Fatalf("cancel took %s", took)
	}
	// With concurrency 1, the next run only starts if the plugin let go.
	start = time.Now()
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
	if time.Since(start) > 100*time.Millisecond {
		t.Fatalf("plugin slot not released promptly: %s", time.Since(start))
	}
	// Cancelling again, or a finished run, is a conflict.
	e.wantStatus(e.do("POST", "/v1/runs/"+id+"/cancel", ""), 409)
	done := runID(t, e.do("POST", "/v1/actions/testkit.noop/run", `{}`))
	e.wantStatus(e.do("POST", "/v1/runs/"+done+"/cancel", ""), 409)
	e.wantStatus(e.do("POST", "/v1/runs/run_01NOSUCHRUN/cancel", ""), 404)
}

func TestBlockingClientDisconnectDoesNotCancel(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", e.URL+"/v1/actions/testkit.sleep/run", strings.NewReader(`{"ms":400}`))
	req.Header.Set("x-api-key", testKey)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("expected the client to give up")
	}
	// A read action is recorded when it ends: the run shows up in history
	// once it has finished, despite the client leaving at 100 ms.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		list := e.do("GET", "/v1/runs?limit=1", "").JSON(t)["data"].(map[string]any)["list"].([]any)
		if len(list) == 1 {
			if st := list[0].(map[string]any)["status"]; st != "succeeded" {
				t.Fatalf("run ended %v", st)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the run never reached history")
}

func TestFullQueueIs429(t *testing.T) {
	e := newEnv(t, envOptions{queueSize: 1, workers: 1})
	var codes []int
	var retry string
	for i := 0; i < 4; i++ {
		r := e.do("POST", "/v1/actions/testkit.sleep/run?blocking=false", `{"ms":300}`)
		codes = append(codes, r.Status)
		if r.Status == 429 {
			retry = r.Header.Get("Retry-After")
			if r.ErrorCode(t) != "rate_limited" {
				t.Fatal(string(r.Body))
			}
		}
	}
	if codes[0] != 202 || codes[3] != 429 || retry == "" {
		t.Fatalf("codes %v, Retry-After %q", codes, retry)
	}
}

func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	first := e.do("POST", "/v1/actions/testkit.count/run", `{"text":"once"}`, "Idempotency-Key", "k1")
	second := e.do("POST", "/v1/actions/testkit.count/run", `{"text":"once"}`, "Idempotency-Key", "k1")
	e.wantStatus(first, 200)
	e.wantStatus(second, 200)
	if string(first.Body) != string(second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, second.Body)
	}
	lines, _ := os.ReadFile(e.dir + "/count")
	if strings.Count(string(lines), "\n") != 1 {
		t.Fatalf("plugin called %d times", strings.Count(string(lines), "\n"))
	}
	r := e.do("POST", "/v1/actions/testkit.count/run", `{"text":"other"}`, "Idempotency-Key", "k1")
	e.wantStatus(r, 409)
	if !strings.Contains(r.ErrorMessage(t), "different request body") {
		t.Fatal(string(r.Body))
	}
	// The same key while the first request is in flight.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.do("POST", "/v1/actions/testkit.sleep/run", `{"ms":400}`, "Idempotency-Key", "k2")
	}()
	time.Sleep(100 * time.Millisecond)
	r = e.do("POST", "/v1/actions/testkit.sleep/run", `{"ms":400}`, "Idempotency-Key", "k2")
	e.wantStatus(r, 409)
	if !strings.Contains(r.ErrorMessage(t), "in progress") {
		t.Fatal(string(r.Body))
	}
	wg.Wait()
	// A rejected request does not burn the key.
	e.wantStatus(e.do("POST", "/v1/actions/testkit.count/run", `{"txt":"x"}`, "Idempotency-Key", "k3"), 400)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.count/run", `{"text":"x"}`, "Idempotency-Key", "k3"), 200)
	// A run that failed is an answer: the retry replays it, nothing runs.
	failed := e.do("POST", "/v1/actions/testkit.fail/run", `{}`, "Idempotency-Key", "k4")
	e.wantStatus(failed, 500)
	replayed := e.do("POST", "/v1/actions/testkit.fail/run", `{}`, "Idempotency-Key", "k4")
	if replayed.Status != 500 || replayed.Header.Get("Idempotent-Replayed") != "true" || string(replayed.Body) != string(failed.Body) {
		t.Fatalf("failed run not replayed: %d %s", replayed.Status, replayed.Body)
	}
	if l := e.do("GET", "/v1/runs?action_id=testkit.fail", "").JSON(t)["data"].(map[string]any)["list"].([]any); len(l) != 1 {
		t.Fatalf("%d runs of testkit.fail, want 1", len(l))
	}
}

// TestIdempotencyKeyAfterFullQueue: a 429 (no run was made) does not burn
// the key: the same request is queued once there is room.
func TestIdempotencyKeyAfterFullQueue(t *testing.T) {
	e := newEnv(t, envOptions{queueSize: 1, workers: 1})
	e.wantStatus(e.do("POST", "/v1/actions/testkit.sleep/run?blocking=false", `{"ms":400}`), 202) // busy worker
	waitFor(t, "the worker to take the sleep", func() bool {
		return e.do("POST", "/v1/actions/testkit.noop/run?blocking=false", `{}`).Status == 202 // fills the queue
	})
	full := e.do("POST", "/v1/actions/testkit.noop/run?blocking=false", `{}`, "Idempotency-Key", "q1")
	e.wantStatus(full, 429)
	var r resp
	waitFor(t, "room in the queue", func() bool {
		r = e.do("POST", "/v1/actions/testkit.noop/run?blocking=false", `{}`, "Idempotency-Key", "q1")
		return r.Status != 429
	})
	e.wantStatus(r, 202)
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the 429 was recorded as the answer: %s", r.Body)
	}
}

func TestRunsListFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.do("POST", "/v1/actions/testkit.noop/run", `{}`)
	}
	e.do("POST", "/v1/actions/testkit.fail/run", `{}`)
	list := func(q string) ([]any, bool) {
		r := e.do("GET", "/v1/runs?"+q, "")
		e.wantStatus(r, 200)
		d := r.JSON(t)["data"].(map[string]any)
		return d["list"].([]any), d["has_more"].(bool)
	}
	if l, _ := list("status=failed"); len(l) != 1 {
		t.Fatalf("failed runs: %d", len(l))
	}
	if l, _ := list("action_id=testkit.noop"); len(l) != 3 {
		t.Fatalf("noop runs: %d", len(l))
	}
	page1, more := list("limit=2")
	if len(page1) != 2 || !more {
		t.Fatalf("page1 %d more %v", len(page1), more)
	}
	last := page1[1].(map[string]any)["id"].(string)
	page2, more := list("limit=2&after=" + last)
	if len(page2) != 2 || more {
		t.Fatalf("page2 %d more %v", len(page2), more)
	}
	asc, _ := list("order=asc&limit=1")
	if asc[0].(map[string]any)["action"] != "testkit.noop" {
		t.Fatalf("oldest first: %v", asc[0])
	}
	for _, bad := range []string{"limit=0", "limit=101", "limit=x", "order=up", "status=done", "created_after=yesterday"} {
		r := e.do("GET", "/v1/runs?"+bad, "")
		e.wantStatus(r, 400)
		field, _, _ := strings.Cut(bad, "=")
		if !strings.Contains(r.ErrorMessage(t), field) {
			t.Errorf("%s: message %q does not name %s", bad, r.ErrorMessage(t), field)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRunNotRecordedIsNotASuccess: a blocking answer means the run is in
// history; when its final record cannot be stored the client is told so,
// with the run's id, instead of getting the output.
func TestRunNotRecordedIsNotASuccess(t *testing.T) {
	e := newEnv(t)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
	e.db.Close() // every later write fails
	r := e.do("POST", "/v1/actions/testkit.noop/run", `{}`)
	e.wantStatus(r, 500)
	body := r.JSON(t)["error"].(map[string]any)
	msg, _ := body["message"].(string)
	if body["code"] != "not_recorded" || !strings.Contains(msg, "could not be stored") || !strings.HasPrefix(body["run_id"].(string), "run_") {
		t.Errorf("answer when the record cannot be stored: %s", r.Body)
	}
}

// TestRunModeQuery: the query's flags override the body's, and a flag that
// is not a boolean is refused, naming it.
func TestRunModeQuery(t *testing.T) {
	e := newEnv(t)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.sleep/run?blocking=false", `{"ms":1,"blocking":true}`), 202)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.sleep/run?other=1", `{"ms":1,"blocking":false}`), 202)
	for _, name := range []string{"blocking", "stream"} {
		r := e.do("POST", "/v1/actions/testkit.sleep/run?"+name+"=maybe", `{"ms":1}`)
		e.wantStatus(r, 400)
		if !strings.Contains(string(r.Body), name+" must be true or false") {
			t.Errorf("%s=maybe: %s", name, r.Body)
		}
	}
}

// TestIdempotencyKeyIsScopedToTheKeyItself: a key revoked and created
// again under the same name is another key: it does not replay the first
// one's run, and a name that is taken (the bootstrap key's included) is
// refused. The same request in the other input form replays.
func TestIdempotencyKeyIsScopedToTheKeyItself(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	newKey := func() string {
		r := e.do("POST", "/v1/admin/keys", `{"name":"ci-bot","scopes":["run","read"]}`)
		e.wantStatus(r, 201)
		return r.Data(t)["key"].(string)
	}
	first := newKey()
	a := e.do("POST", "/v1/actions/testkit.count/run", `{"text":"once"}`, "Idempotency-Key", "same", "x-api-key", first)
	e.wantStatus(a, 200)
	// The other input form, same key: the same request.
	again := e.do("POST", "/v1/actions/testkit.count/run", `{"input":{"text":"once"}}`, "Idempotency-Key", "same", "x-api-key", first)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(a.Body) {
		t.Fatalf("the {\"input\":...} form did not replay: %s", again.Body)
	}
	if r := e.do("POST", "/v1/admin/keys", `{"name":"ci-bot"}`); r.Status != 409 {
		t.Fatalf("a taken name: %d %s", r.Status, r.Body)
	}
	if r := e.do("POST", "/v1/admin/keys", `{"name":"bootstrap"}`); r.Status != 409 || !strings.Contains(r.ErrorMessage(t), "bootstrap") {
		t.Fatalf("the bootstrap key's name: %d %s", r.Status, r.Body)
	}
	e.wantStatus(e.do("DELETE", "/v1/admin/keys/ci-bot", ""), 200)
	second := newKey()
	b := e.do("POST", "/v1/actions/testkit.count/run", `{"text":"once"}`, "Idempotency-Key", "same", "x-api-key", second)
	e.wantStatus(b, 200)
	if b.Header.Get("Idempotent-Replayed") != "" || string(b.Body) == string(a.Body) {
		t.Fatalf("the new key replayed the revoked one's run: %s", b.Body)
	}
	lines, _ := os.ReadFile(e.dir + "/count")
	if n := strings.Count(string(lines), "\n"); n != 2 {
		t.Fatalf("plugin called %d times, want 2 (once per key)", n)
	}
	runs, _, err := e.db.Runs().ListRuns(ctx, domain.RunFilter{}, domain.Page{})
	if err != nil || len(runs) != 2 || runs[0].KeyID == runs[1].KeyID || runs[0].KeyName != "ci-bot" || runs[0].Source != "http" {
		t.Fatalf("runs: %v %+v", err, runs)
	}
}
