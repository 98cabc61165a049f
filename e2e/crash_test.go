package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
)

// runRecord is GET /v1/runs/{id}'s data, the fields the crash test reads.
type runRecord struct {
	ID         string          `json:"id"`
	ActionID   string          `json:"action_id"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output"`
	Error      *struct{ Code, Message string }
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

var terminal = []string{"succeeded", "failed", "cancelled", "timed_out"}

// crashRequest is one of the runs fired at the host before it is killed.
type crashRequest struct {
	action, body string
	blocking     bool
	tag          string // count's text, to find its line in the counter file

	status int
	runID  string
	body2  []byte
	err    error
}

// TestCrashRecovery (issue 5): SIGKILL the host while 500 runs are under
// way, restart it on the same data directory, and check that the file is
// sound and that every run the host acknowledged (200 or 202) is in
// history, finished or failed as interrupted, none of them re-run.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	dataDir := filepath.Join(dir, "data")
	opts := serveOpts{DataDir: dataDir, LogLevel: "warn", Config: serveConfig{
		Top:           "queue {\n  size    = 1000\n  workers = 32\n}",
		TestkitConfig: map[string]string{"counterFile": counter},
		TestkitExtra:  "  concurrency = 64",
	}}
	s := startServe(t, opts)
	kids := s.pluginPIDs(t, 1)

	// A run that is certainly running (recorded so) when the host dies.
	r := s.do("POST", "/v1/actions/testkit.sleep/run?blocking=false", `{"ms":60000}`)
	wantStatus(t, r, 202)
	sentinel := r.Data(t)["run_id"].(string)
	waitStatus(t, s, sentinel, "running", 5*time.Second)

	rng := rand.New(rand.NewPCG(5, 5))
	reqs := make([]*crashRequest, 500)
	for i := range reqs {
		q := &crashRequest{}
		switch i % 10 {
		case 0, 1, 2: // create action: recorded running before the plugin is called
			q.action, q.body, q.blocking = "testkit.echo", fmt.Sprintf(`{"text":"e%d"}`, i), true
		case 3:
			q.action, q.body, q.blocking = "testkit.sleep", fmt.Sprintf(`{"ms":%d}`, 50+rng.IntN(1500)), true
		case 4, 5:
			q.action, q.body = "testkit.sleep", fmt.Sprintf(`{"ms":%d}`, rng.IntN(3000))
		case 6:
			q.tag = fmt.Sprintf("c%d", i)
			q.action, q.body = "testkit.count", `{"text":"`+q.tag+`"}`
		case 7:
			q.tag = fmt.Sprintf("c%d", i)
			q.action, q.body, q.blocking = "testkit.count", `{"text":"`+q.tag+`"}`, true
		case 8:
			q.action, q.body = "testkit.echo", fmt.Sprintf(`{"text":"e%d"}`, i)
		case 9:
			q.action, q.body, q.blocking = "testkit.noop", `{}`, true
		}
		reqs[i] = q
	}

	const killAfter = 150 // acknowledged answers
	var (
		acked    atomic.Int32
		killOnce sync.Once
		killNow  = make(chan struct{})
		gate     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for _, q := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			path := "/v1/actions/" + q.action + "/run"
			if !q.blocking {
				path += "?blocking=false"
			}
			res, err := s.try("POST", path, q.body)
			q.status, q.body2, q.err = res.Status, res.Body, err
			if err == nil && (res.Status == 200 || res.Status == 202) {
				var env struct {
					Data struct {
						RunID string `json:"run_id"`
					} `json:"data"`
				}
				if json.Unmarshal(res.Body, &env) == nil {
					q.runID = env.Data.RunID
				}
				if acked.Add(1) == killAfter {
					killOnce.Do(func() { close(killNow) })
				}
			}
		}()
	}
	fired := time.Now()
	close(gate)
	select {
	case <-killNow:
	case <-time.After(3 * time.Second):
	}
	s.kill9(t)
	killedAt := time.Since(fired)
	wg.Wait()
	if left := waitGone(kids, 3*time.Second); len(left) > 0 {
		t.Fatalf("plugin processes %v alive after the host was killed", left)
	}
	linesAtKill := readLines(t, counter)

	var ok200, ok202, failedReq, other int
	statuses := map[int]int{}
	for _, q := range reqs {
		switch {
		case q.err != nil:
			failedReq++
		case q.status == 200:
			ok200++
		case q.status == 202:
			ok202++
		default:
			other++
			statuses[q.status]++
		}
		if q.err == nil && (q.status == 200 || q.status == 202) && !strings.HasPrefix(q.runID, "run_") {
			t.Errorf("a %d answer without data.run_id: %s", q.status, q.body2)
		}
	}
	t.Logf("killed the host %s after firing 500 runs: %d answered 200, %d answered 202, %d other statuses %v, %d cut off; %d count lines written",
		killedAt.Round(time.Millisecond), ok200, ok202, other, statuses, failedReq, len(linesAtKill))
	if failedReq == 0 {
		t.Errorf("no request was cut off: the kill came after every run finished")
	}
	if other > 0 {
		for _, q := range reqs {
			if q.err == nil && q.status != 200 && q.status != 202 {
				t.Errorf("unexpected answer %d to %s %s: %s", q.status, q.action, q.body, q.body2)
				break
			}
		}
	}

	// The file as the crash left it.
	checkDB(t, dataDir)

	s2 := startServe(t, opts)
	m := regexp.MustCompile(`(\d+) run\(s\) were in progress when the host last stopped`).FindStringSubmatch(s2.stdout.String())
	if m == nil {
		t.Fatalf("restart does not say how many runs were interrupted:\n%s", s2.stdout.String())
	}
	interrupted, _ := strconv.Atoi(m[1])
	t.Logf("restart: %s", m[0])

	// Every acknowledged run is in history, whole, and ended.
	records := map[string]runRecord{}
	var nInterrupted int
	for _, q := range reqs {
		if q.runID == "" {
			continue
		}
		rec := getRun(t, s2, q.runID)
		records[q.runID] = rec
		wantAction := core.ActionID("testkit", strings.TrimPrefix(q.action, "testkit."))
		if rec.ID != q.runID || rec.ActionID != wantAction || rec.CreatedAt.IsZero() || len(rec.Input) == 0 {
			t.Errorf("run %s is not whole: %+v", q.runID, rec)
		}
		if !slices.Contains(terminal, rec.Status) || rec.FinishedAt == nil {
			t.Errorf("run %s (%s, answered %d) is %s, finished_at %v", q.runID, q.action, q.status, rec.Status, rec.FinishedAt)
			continue
		}
		switch {
		case q.status == 200 && rec.Status != "succeeded":
			t.Errorf("run %s answered 200 but history says %s", q.runID, rec.Status)
		case q.status == 200 && q.action == "testkit.echo" && !strings.Contains(string(rec.Output), strings.TrimSuffix(strings.TrimPrefix(q.body, `{"text":`), "}")):
			t.Errorf("run %s: output %s for input %s", q.runID, rec.Output, q.body)
		case rec.Status == "failed" && (rec.Error == nil || rec.Error.Code != "interrupted"):
			t.Errorf("run %s failed with %+v, not interrupted", q.runID, rec.Error)
		case rec.Status != "succeeded" && rec.Status != "failed":
			t.Errorf("run %s is %s", q.runID, rec.Status)
		}
		if rec.Error != nil && rec.Error.Code == "interrupted" {
			nInterrupted++
		}
	}
	t.Logf("%d acknowledged runs found in history, %d of them interrupted", len(records), nInterrupted)

	// The run that was running at the kill failed as interrupted.
	if rec := getRun(t, s2, sentinel); rec.Status != "failed" || rec.Error == nil || rec.Error.Code != "interrupted" {
		t.Errorf("the run running at the kill is %s %+v, want failed/interrupted", rec.Status, rec.Error)
	}

	// Nothing is left queued or running, and the interrupted count matches.
	for _, st := range []string{"queued", "running"} {
		if list := listRuns(t, s2, "status="+st); len(list) > 0 {
			t.Errorf("%d runs still %s after the restart, e.g. %+v", len(list), st, list[0])
		}
	}
	all := listRuns(t, s2, "")
	var inHistoryInterrupted int
	for _, rec := range all {
		if !slices.Contains(terminal, rec.Status) {
			t.Errorf("run %s is %s after the restart", rec.ID, rec.Status)
		}
		if rec.Error != nil && rec.Error.Code == "interrupted" {
			inHistoryInterrupted++
		}
	}
	if inHistoryInterrupted != interrupted || interrupted < 1 {
		t.Errorf("restart said %d runs were interrupted; history has %d interrupted runs", interrupted, inHistoryInterrupted)
	}
	t.Logf("%d runs in history in all", len(all))

	// Not re-run: the counter file did not change after the restart, each
	// count request reached the plugin at most once, and every succeeded
	// count run did reach it.
	time.Sleep(500 * time.Millisecond)
	lines := readLines(t, counter)
	if !slices.Equal(lines, linesAtKill) {
		t.Errorf("the counter file changed after the restart: %d lines at the kill, %d now", len(linesAtKill), len(lines))
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Errorf("count %q reached the plugin twice", l)
		}
		seen[l] = true
	}
	var countReqs, countSucceeded int
	for _, q := range reqs {
		if q.tag == "" {
			continue
		}
		countReqs++
		if rec, ok := records[q.runID]; ok && rec.Status == "succeeded" {
			countSucceeded++
			if !seen[q.tag] {
				t.Errorf("count run %s succeeded but %q is not in the counter file", q.runID, q.tag)
			}
		}
	}
	for l := range seen {
		if !slices.ContainsFunc(reqs, func(q *crashRequest) bool { return q.tag == l }) {
			t.Errorf("counter line %q matches no count request", l)
		}
	}
	// count is a create action, so it is recorded before the plugin is
	// called: every line in the file has its run in history, answered or not.
	countID := core.ActionID("testkit", "count")
	byTag := map[string]runRecord{}
	for _, rec := range all {
		var in struct{ Text string }
		if rec.ActionID == countID && json.Unmarshal(rec.Input, &in) == nil {
			byTag[in.Text] = rec
		}
	}
	for _, l := range lines {
		if rec, ok := byTag[l]; !ok {
			t.Errorf("count %q reached the plugin but has no run in history", l)
		} else if rec.Status != "succeeded" && (rec.Error == nil || rec.Error.Code != "interrupted") {
			t.Errorf("count %q reached the plugin; its run is %s %+v", l, rec.Status, rec.Error)
		}
	}
	t.Logf("count: %d requests, %d reached the plugin (one line each), %d acknowledged and succeeded, %d in history",
		countReqs, len(lines), countSucceeded, len(byTag))

	s2.stop(t)
	checkDB(t, dataDir)
}

// checkDB runs `toolhost db check` on the data directory (the server must
// be stopped).
func checkDB(t *testing.T, dataDir string) {
	t.Helper()
	out, code := toolhostCmd(t, 60*time.Second, "db", "check", "--data-dir", dataDir)
	if code != 0 || !regexp.MustCompile(`(?m)^ok$`).MatchString(out) {
		t.Fatalf("toolhost db check exited %d:\n%s", code, out)
	}
	t.Logf("db check: %s", strings.Join(strings.Fields(out), " "))
}

func getRun(t *testing.T, s *proc, id string) runRecord {
	t.Helper()
	r := s.do("GET", "/v1/runs/"+id, "")
	if r.Status != 200 {
		t.Fatalf("run %s: %d %s", id, r.Status, r.Body)
	}
	var env struct {
		Status string    `json:"status"`
		Data   runRecord `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Status != "success" {
		t.Fatalf("run %s: %v %s", id, err, r.Body)
	}
	return env.Data
}

// listRuns pages through GET /v1/runs with the query.
func listRuns(t *testing.T, s *proc, query string) []runRecord {
	t.Helper()
	var out []runRecord
	after := ""
	for page := 0; page < 10000; page++ {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		path := "/v1/runs?" + q.Encode()
		if query != "" {
			path += "&" + query
		}
		r := s.do("GET", path, "")
		wantStatus(t, r, 200)
		var env struct {
			Data struct {
				List    []runRecord `json:"list"`
				HasMore bool        `json:"has_more"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Data.List...)
		if !env.Data.HasMore || len(env.Data.List) == 0 {
			return out
		}
		after = env.Data.List[len(env.Data.List)-1].ID
	}
	t.Fatal("too many pages")
	return nil
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(raw))
}
