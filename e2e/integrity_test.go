package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// seedRuns makes a data directory holding n finished runs (each with an
// input of pad bytes), written by the store package as serve would, and
// closed cleanly.
func seedRuns(t *testing.T, dataDir string, n, pad int) []*domain.Run {
	t.Helper()
	db, err := store.Open(dataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var runs []*domain.Run
	input, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", pad)})
	for range n {
		r := &domain.Run{ID: domain.NewID(domain.RunPrefix), Kind: "action", Status: domain.StatusSucceeded,
			ActionID: specActionID("testkit", "echo"), PluginID: specPluginID("testkit"), Input: input}
		if err := db.Runs().PutRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return runs
}

// wantRefused checks that a command exited non-zero with a message naming
// the file and what to do, and without a panic or goroutine dump.
func wantRefused(t *testing.T, what, out string, code int, path string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("%s exited 0 on a damaged file:\n%s", what, out)
	}
	for _, bad := range []string{"panic", "goroutine ", "SIGSEGV", "SIGBUS"} {
		if strings.Contains(out, bad) {
			t.Fatalf("%s printed %q:\n%s", what, bad, tail(out, 3000))
		}
	}
	for _, want := range []string{path, "backup", "toolhost db check"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s does not say %q:\n%s", what, want, tail(out, 3000))
		}
	}
}

// TestTruncatedDataFile (issue 12, defect 4): `truncate -s 524288
// toolhost.db`, then serve and db check: both exit non-zero naming the
// file and what to do; no panic, no dump.
func TestTruncatedDataFile(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	seedRuns(t, dataDir, 20, 64<<10)
	path := filepath.Join(dataDir, store.FileName)
	if fi, err := os.Stat(path); err != nil || fi.Size() <= 524288 {
		t.Fatalf("data file too small for the test: %v %v", fi, err)
	}
	if err := os.Truncate(path, 524288); err != nil {
		t.Fatal(err)
	}
	p := launch(t, serveOpts{DataDir: dataDir})
	code, exited := p.wait(30 * time.Second)
	if !exited {
		t.Fatal("serve kept running on a truncated file")
	}
	wantRefused(t, "serve", p.stdout.String()+p.stderr.String(), code, path)
	out, code := toolhostCmd(t, 30*time.Second, "db", "check", "--data-dir", dataDir)
	wantRefused(t, "db check", out, code, path)
	if !strings.Contains(out, "cut short") {
		t.Errorf("db check does not say the file is cut short:\n%s", out)
	}
}

// TestEmptyDataFileNextToJournal (defect 6): an empty toolhost.db next to
// the journal and key of a directory that held data is refused.
func TestEmptyDataFileNextToJournal(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, serveOpts{DataDir: dataDir})
	p.stop(t)
	path := filepath.Join(dataDir, store.FileName)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	p = launch(t, serveOpts{DataDir: dataDir})
	code, exited := p.wait(30 * time.Second)
	if !exited {
		t.Fatal("serve started on an empty data file next to its journal")
	}
	wantRefused(t, "serve", p.stdout.String()+p.stderr.String(), code, path)
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("the empty file was re-created as a database (%d bytes)", fi.Size())
	}
}

// appendJournalRecord frames one run record as the run journal does
// (length, CRC-32C of seq and body, seq, then per run a length and the
// JSON), independently of the store's own encoder.
func appendJournalRecord(buf []byte, seq uint64, run []byte) []byte {
	body := binary.LittleEndian.AppendUint32(nil, uint32(len(run)))
	body = append(body, run...)
	crcd := binary.LittleEndian.AppendUint64(nil, seq)
	crcd = append(crcd, body...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(crcd, crc32.MakeTable(crc32.Castagnoli)))
	return append(buf, crcd...)
}

// TestCorruptedJournal (defect 6): 30 acknowledged runs left in the
// journal of a killed host, 64 bytes zeroed at a quarter of the file:
// the restarted host recovers every intact record and says loudly, on
// stdout, in the log and in /health, how many were lost and which.
func TestCorruptedJournal(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, serveOpts{DataDir: dataDir})
	p.stop(t)
	var journal []byte
	var ids []string
	start := map[int]int{} // seq → offset
	for i := 1; i <= 30; i++ {
		r := domain.Run{ID: domain.NewID(domain.RunPrefix), Kind: "action", Status: domain.StatusSucceeded,
			ActionID: specActionID("testkit", "echo"), PluginID: specPluginID("testkit"),
			Input: json.RawMessage(`{"n":` + fmt.Sprint(i) + `}`)}
		enc, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		start[i] = len(journal)
		journal = appendJournalRecord(journal, uint64(i), enc)
		ids = append(ids, r.ID)
	}
	at := len(journal) / 4
	clear(journal[at : at+64])
	if err := os.WriteFile(filepath.Join(dataDir, store.JournalFileName), journal, 0o600); err != nil {
		t.Fatal(err)
	}
	var hit []int // records the damage reaches
	for i := 1; i <= 30; i++ {
		end := len(journal)
		if i < 30 {
			end = start[i+1]
		}
		if start[i] < at+64 && at < end {
			hit = append(hit, i)
		}
	}

	s := startServe(t, serveOpts{DataDir: dataDir})
	found := 0
	for _, id := range ids {
		if r := s.do("GET", "/v1/runs/"+id, ""); r.Status == 200 {
			found++
		}
	}
	t.Logf("damage at bytes %d–%d hits record(s) %v; %d of 30 runs recovered", at, at+64, hit, found)
	if found != 30-len(hit) {
		t.Errorf("%d of 30 runs recovered, want %d (all but the damaged %v)", found, 30-len(hit), hit)
	}
	want := fmt.Sprintf("%d journal record(s) damaged and lost (sequence %d–%d", len(hit), hit[0], hit[len(hit)-1])
	if out := s.stdout.String(); !strings.Contains(out, "WARNING") || !strings.Contains(out, want) {
		t.Errorf("start output does not warn %q:\n%s", want, out)
	}
	if !strings.Contains(s.stderr.String(), "run journal damaged") {
		t.Errorf("log has no warning:\n%s", tail(s.stderr.String(), 3000))
	}
	h := s.do("GET", "/health", "", "x-api-key", "").Data(t)
	st, _ := h["storage"].(map[string]any)
	if h["status"] != "degraded" || st == nil || st["journal_lost"] != float64(len(hit)) || st["journal_first_seq"] != float64(hit[0]) {
		t.Errorf("/health = %v, want degraded with journal_lost %d from seq %d", h, len(hit), hit[0])
	}
}

// TestCorruptedRunRecords (defect 5): bytes flipped inside a run record:
// serve starts and warns (log and /health) how many are damaged, list
// pages skip the record and say so, db check lists it, db repair refuses
// while the server runs and then moves it aside.
func TestCorruptedRunRecords(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	runs := seedRuns(t, dataDir, 8, 10)
	bad := runs[3].ID
	path := filepath.Join(dataDir, store.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(`{"id":"` + bad + `",`)
	n := bytes.Count(data, rec)
	if n == 0 {
		t.Fatal("record not found in the file")
	}
	data = bytes.ReplaceAll(data, rec, append(rec[:len(rec)-1:len(rec)-1], '}')) // the object ends early: not JSON
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	s := startServe(t, serveOpts{DataDir: dataDir})
	r := s.do("GET", "/v1/runs?limit=100", "")
	wantStatus(t, r, 200)
	d := r.Data(t)
	if list, _ := d["list"].([]any); len(list) != 7 || d["damaged"] != float64(1) || fmt.Sprint(d["damaged_ids"]) != "["+bad+"]" {
		t.Errorf("GET /v1/runs = %d runs, damaged %v %v; want 7 and the damaged one named", len(list), d["damaged"], d["damaged_ids"])
	}
	// The damaged run itself: an internal error (as every one, its cause
	// is in the log, not the answer), which the log names.
	r = s.do("GET", "/v1/runs/"+bad, "")
	if code, _ := r.ErrorOf(t); r.Status != 500 || code != "internal" {
		t.Errorf("GET the damaged run: %d %s", r.Status, r.Body)
	}
	// The log reaches the test through a pipe: give it a moment.
	named := func() bool { return strings.Contains(s.stderr.String(), "run "+bad+": the stored record is damaged") }
	for wait := time.Now().Add(5 * time.Second); !named() && time.Now().Before(wait); {
		time.Sleep(20 * time.Millisecond)
	}
	if !named() {
		t.Errorf("the log does not name the damaged record:\n%s", tail(s.stderr.String(), 2000))
	}
	deadline := time.Now().Add(20 * time.Second)
	var h map[string]any
	for {
		h = s.do("GET", "/health", "", "x-api-key", "").Data(t)
		if st, _ := h["storage"].(map[string]any); st != nil && st["damaged_runs"] == float64(1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if h["status"] != "degraded" {
		t.Errorf("/health = %v, want degraded with damaged_runs 1", h)
	}
	if !strings.Contains(s.stderr.String(), "damaged run records") || !strings.Contains(s.stderr.String(), "damaged=1") {
		t.Errorf("log has no warning with the count:\n%s", tail(s.stderr.String(), 3000))
	}
	out, code := toolhostCmd(t, 30*time.Second, "db", "repair", "--data-dir", dataDir)
	if code == 0 || !strings.Contains(out, "stop") {
		t.Errorf("db repair with the server running: exit %d:\n%s", code, out)
	}
	s.stop(t)

	out, code = toolhostCmd(t, 30*time.Second, "db", "check", "--data-dir", dataDir)
	if code == 0 || !strings.Contains(out, bad) || !strings.Contains(out, "db repair") {
		t.Errorf("db check: exit %d, want the damaged run listed:\n%s", code, out)
	}
	out, code = toolhostCmd(t, 30*time.Second, "db", "repair", "--data-dir", dataDir)
	if code != 0 || !strings.Contains(out, "quarantined run "+bad) || !strings.Contains(out, "1 damaged run record(s) moved") {
		t.Errorf("db repair: exit %d:\n%s", code, out)
	}
	checkDB(t, dataDir)
}
