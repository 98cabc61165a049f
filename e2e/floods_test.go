package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLogEventCaps (issue 12, defect 8): 100 log events of 1 MiB each
// (message and a field) store a bounded run: each event cut with a
// marker, the run's events capped with a marker and the rest counted.
func TestLogEventCaps(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{}))
	chatty := "/v1/actions/" + specActionID("testkit", "chatty") + "/run"

	// 100 events of 1 MiB: each is cut, with a marker.
	size, run := chattyRun(t, s, chatty, `{"lines":100,"size":1048576}`)
	t.Logf("100 events of 1 MiB: run record %d bytes, %d log events kept, %d dropped, host peak RSS %s",
		size, len(run.Logs), run.LogsDropped, peakRSS(s.Pid))
	if size > 2<<20 {
		t.Errorf("the run's record is %d bytes, want under 2 MiB", size)
	}
	for i, l := range run.Logs {
		if !strings.Contains(l.Message, "[truncated: ") || !strings.Contains(string(l.Fields), `"truncated":true`) {
			t.Fatalf("event %d is not cut with a marker: %.100s", i, l.Message)
		}
	}

	// Events under the per-event cap fill the run's cap: a marker, then
	// the rest are dropped and counted.
	size, run = chattyRun(t, s, chatty, `{"lines":200,"size":40000}`)
	t.Logf("200 events of 48 kB: run record %d bytes, %d log events kept, %d dropped, host peak RSS %s",
		size, len(run.Logs), run.LogsDropped, peakRSS(s.Pid))
	if size > 6<<20 {
		t.Errorf("the run's record is %d bytes, want under 6 MiB", size)
	}
	if run.LogsDropped == 0 || len(run.Logs)-1+run.LogsDropped != 200 {
		t.Errorf("%d events kept and %d dropped, want the 200 all accounted for", len(run.Logs), run.LogsDropped)
	}
	if n := len(run.Logs); n == 0 || !strings.Contains(run.Logs[n-1].Message, "log cap of") {
		t.Errorf("the last event kept is not the cap's marker")
	}
}

type chattyLogs struct {
	Logs []struct {
		Message string          `json:"message"`
		Fields  json.RawMessage `json:"fields"`
	} `json:"logs"`
	LogsDropped int `json:"logs_dropped"`
}

// chattyRun runs chatty with body and returns the size of its stored
// record and its logs.
func chattyRun(t *testing.T, s *proc, path, body string) (int, chattyLogs) {
	t.Helper()
	r := s.do("POST", path, body)
	wantStatus(t, r, 200)
	id, _ := r.Data(t)["run_id"].(string)
	got := s.do("GET", "/v1/runs/"+id, "")
	wantStatus(t, got, 200)
	var env struct{ Data chattyLogs }
	if err := json.Unmarshal(got.Body, &env); err != nil {
		t.Fatal(err)
	}
	return len(got.Body), env.Data
}

// peakRSS is the process's peak resident memory, for the test log.
func peakRSS(pid int) string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

var suppressedRe = regexp.MustCompile(`suppressed=(\d+)`)

// TestStderrFloodIsRateLimited (defect 8): 100k stderr lines do not
// become 100k log lines: the plugin's lines are rate-limited, and the
// rest is summed up in "suppressed N" lines, every line accounted for.
func TestStderrFloodIsRateLimited(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{}))
	chatty := "/v1/actions/" + specActionID("testkit", "chatty") + "/run"
	wantStatus(t, s.do("POST", chatty, `{"lines":0,"stderr":100000}`), 200)
	var logged, suppressed int
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := s.stderr.String()
		logged = strings.Count(out, `line="flood line `)
		suppressed = 0
		for _, m := range suppressedRe.FindAllStringSubmatch(out, -1) {
			n, _ := strconv.Atoi(m[1])
			suppressed += n
		}
		if logged+suppressed >= 100000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("100000 stderr lines: %d logged, %d suppressed (in summaries)", logged, suppressed)
	if logged > 2000 {
		t.Errorf("%d of the lines were logged one by one, want the flood limited", logged)
	}
	if logged+suppressed != 100000 {
		t.Errorf("%d logged + %d suppressed, want all 100000 accounted for", logged, suppressed)
	}
}

// TestSlowReaderIsCutOff (defect 8): a client that never reads a large
// answer does not hold its connection forever: after write_timeout the
// host gives up and closes it.
func TestSlowReaderIsCutOff(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{Top: `write_timeout = "2s"`}))
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 15 << 20 // more than loopback's socket buffers hold for a reader that never reads
	body := fmt.Sprintf(`{"bytes":%d}`, size)
	fmt.Fprintf(conn, "POST /v1/actions/%s/run HTTP/1.1\r\nHost: %s\r\nx-api-key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		specActionID("testkit", "big"), u.Host, s.Key, len(body), body)
	time.Sleep(8 * time.Second) // not reading
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, bufio.NewReader(conn))
	t.Logf("after 8 s without reading: %d bytes could still be read, then %v", n, err)
	if n >= size {
		t.Errorf("the whole %d-byte answer was still waiting after the write timeout", size)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("the host still held the connection open 28 s later")
	}
}
