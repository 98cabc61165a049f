package store_test

import (
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

	"github.com/toolhost/toolhost/host/store"
)

// childJournalEnv, when set, makes the test binary a child process that
// opens the store in that directory with records kept in the journal,
// stores the runs of the steps in the file named by childStepsEnv, prints
// "stored" and kills itself with SIGKILL: a host that crashed after
// acknowledging them.
const (
	childJournalEnv = "STORE_TEST_CHILD_JOURNAL"
	childStepsEnv   = "STORE_TEST_CHILD_STEPS"
)

// journalStep is one PutRuns call of the child, or with Settle a ListRuns
// (which copies the journal into bbolt, so the next write rewinds it).
type journalStep struct {
	Runs   []*store.Run
	Settle bool
}

func childJournal(dir string) {
	raw, err := os.ReadFile(os.Getenv(childStepsEnv))
	if err != nil {
		panic(err)
	}
	var steps []journalStep
	if err := json.Unmarshal(raw, &steps); err != nil {
		panic(err)
	}
	db, err := store.Open(dir, keepInJournal(store.Options{}))
	if err != nil {
		panic(err)
	}
	for _, s := range steps {
		if s.Settle {
			if _, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: 1}); err != nil {
				panic(err)
			}
			continue
		}
		if err := db.Runs().PutRuns(context.Background(), s.Runs); err != nil {
			panic(err)
		}
	}
	os.Stdout.WriteString("stored\n")
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// keepInJournal leaves records in the journal until something reads the
// file.
func keepInJournal(opts store.Options) store.Options {
	return store.WithJournal(opts, time.Hour, 1<<30, 64<<20)
}

// crashAfter runs steps in a child process that is killed right after
// they are acknowledged.
func crashAfter(t *testing.T, dir string, steps []journalStep) {
	t.Helper()
	raw, _ := json.Marshal(steps)
	stepsFile := filepath.Join(t.TempDir(), "steps.json")
	if err := os.WriteFile(stepsFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childJournalEnv+"="+dir, childStepsEnv+"="+stepsFile)
	out, err := cmd.Output()
	if !strings.Contains(string(out), "stored") {
		t.Fatalf("child: %v; stdout %q", err, out)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed: %v", err)
	}
}

func put(runs ...*store.Run) journalStep { return journalStep{Runs: runs} }

func withStatus(r *store.Run, status string) *store.Run {
	c := *r
	c.Status = status
	return &c
}

func wantStatus(t *testing.T, db *store.DB, r *store.Run, status string) {
	t.Helper()
	got, err := db.Runs().GetRun(context.Background(), r.ID)
	if err != nil {
		t.Fatalf("GetRun(%s): %v", r.ID, err)
	}
	if got.Status != status {
		t.Errorf("run %s: status %s, want %s", r.ID, got.Status, status)
	}
}

func journalSize(t *testing.T, dir string) int64 {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, store.JournalFileName))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestJournalRunsSurviveACrash(t *testing.T) {
	dir := t.TempDir()
	a, b, c, d := newRun(store.StatusQueued), newRun(store.StatusRunning), newRun(store.StatusSucceeded), newRun(store.StatusFailed)
	crashAfter(t, dir, []journalStep{
		put(a), put(withStatus(a, store.StatusRunning)), put(withStatus(a, store.StatusSucceeded)),
		put(b), put(c, d),
	})
	if journalSize(t, dir) == 0 {
		t.Fatal("the child left nothing in the journal: the test proves nothing")
	}

	db := openDB(t, dir)
	if got := db.Recovered(); got != 6 {
		t.Errorf("Recovered() = %d, want 6 run records", got)
	}
	if n := journalSize(t, dir); n != 0 {
		t.Errorf("journal holds %d bytes after replay, want 0", n)
	}
	wantStatus(t, db, a, store.StatusSucceeded)
	wantStatus(t, db, b, store.StatusRunning)
	wantStatus(t, db, c, store.StatusSucceeded)
	wantStatus(t, db, d, store.StatusFailed)
	runs, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: 10})
	if err != nil || len(runs) != 4 {
		t.Fatalf("ListRuns = %d runs, %v; want 4", len(runs), err)
	}
	if n, err := db.Runs().InterruptRuns(context.Background()); err != nil || n != 1 {
		t.Errorf("InterruptRuns = %d, %v; want the one running run", n, err)
	}
	mustCheck(t, db)
}

func TestJournalRewindKeepsEveryRecord(t *testing.T) {
	dir := t.TempDir()
	var first []*store.Run
	steps := []journalStep{}
	for range 20 {
		r := newRun(store.StatusRunning)
		first = append(first, r)
		steps = append(steps, put(r))
	}
	// After the settle the next write goes to the start of the file, over
	// records already in bbolt; replay must take the new ones only.
	late := newRun(store.StatusQueued)
	steps = append(steps, journalStep{Settle: true},
		put(withStatus(first[0], store.StatusSucceeded)), put(late))
	crashAfter(t, dir, steps)

	db := openDB(t, dir)
	if got := db.Recovered(); got != 2 {
		t.Errorf("Recovered() = %d, want the 2 records written after the rewind", got)
	}
	wantStatus(t, db, first[0], store.StatusSucceeded)
	for _, r := range first[1:] {
		wantStatus(t, db, r, store.StatusRunning)
	}
	wantStatus(t, db, late, store.StatusQueued)
	mustCheck(t, db)
}

func TestJournalTornTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	a := newRun(store.StatusRunning)
	crashAfter(t, dir, []journalStep{put(a), put(withStatus(a, store.StatusSucceeded))})
	// Tear the last record, as a crash in the middle of its write would
	// (it was then never acknowledged).
	path := filepath.Join(dir, store.JournalFileName)
	if err := os.Truncate(path, journalSize(t, dir)-3); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir)
	if got := db.Recovered(); got != 1 {
		t.Errorf("Recovered() = %d, want 1", got)
	}
	wantStatus(t, db, a, store.StatusRunning)
	mustCheck(t, db)
}

func TestJournalGarbageIsIgnored(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	db.Close()
	junk := []byte("this is not a journal record, and it is long enough to have a header")
	if err := os.WriteFile(filepath.Join(dir, store.JournalFileName), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	if got := db.Recovered(); got != 0 {
		t.Errorf("Recovered() = %d from garbage", got)
	}
	mustPut(t, db, newRun(store.StatusRunning))
	mustCheck(t, db)
}

func TestJournalReadsSeeUnappliedRecords(t *testing.T) {
	dir := t.TempDir()
	db := openWith(t, dir, keepInJournal(store.Options{}))
	r := newRun(store.StatusRunning)
	mustPut(t, db, r)
	wantStatus(t, db, r, store.StatusRunning)
	mustPut(t, db, withStatus(r, store.StatusSucceeded))
	// The state machine is checked against the journal, not the file.
	if err := db.Runs().PutRun(context.Background(), withStatus(r, store.StatusRunning)); !errors.Is(err, store.ErrTerminal) {
		t.Errorf("PutRun(running) after succeeded = %v, want ErrTerminal", err)
	}
	wantStatus(t, db, r, store.StatusSucceeded)
	st, err := db.Stats()
	if err != nil || st.Runs != 1 {
		t.Errorf("Stats = %+v, %v; want 1 run", st, err)
	}
	runs, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{Status: store.StatusSucceeded}, store.Page{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Errorf("ListRuns(succeeded) = %d runs, %v", len(runs), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := journalSize(t, dir); n != 0 {
		t.Errorf("journal holds %d bytes after Close, want 0", n)
	}
}

func TestJournalStaysWithinItsSize(t *testing.T) {
	dir := t.TempDir()
	const maxBytes = 8 << 10
	db := openWith(t, dir, store.WithJournal(store.Options{}, time.Hour, 1<<30, maxBytes))
	var runs []*store.Run
	for range 200 {
		r := newRun(store.StatusSucceeded)
		runs = append(runs, r)
		mustPut(t, db, r)
	}
	if n := journalSize(t, dir); n > maxBytes+1024 {
		t.Errorf("journal grew to %d bytes, limit %d", n, maxBytes)
	}
	for _, r := range runs {
		wantStatus(t, db, r, store.StatusSucceeded)
	}
	mustCheck(t, db)
}

func TestJournalConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	db := openWith(t, dir, store.WithJournal(store.Options{}, time.Millisecond, 64, 64<<10))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []*store.Run
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				r := newRun(store.StatusRunning)
				if err := db.Runs().PutRun(context.Background(), r); err != nil {
					t.Error(err)
					return
				}
				if err := db.Runs().PutRun(context.Background(), withStatus(r, store.StatusSucceeded)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	for _, r := range all {
		wantStatus(t, db, r, store.StatusSucceeded)
	}
	if st, _ := db.Stats(); st.Runs != len(all) {
		t.Errorf("Stats.Runs = %d, want %d", st.Runs, len(all))
	}
	mustCheck(t, db)
}

func TestJournalWriteFailureLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	db := openWith(t, dir, keepInJournal(store.Options{}))
	a := newRun(store.StatusRunning)
	mustPut(t, db, a)
	mend := store.BreakJournal(db)
	err := db.Runs().PutRun(context.Background(), withStatus(a, store.StatusSucceeded))
	if err == nil || !strings.Contains(err.Error(), "run journal") {
		t.Fatalf("PutRun on a broken journal = %v, want a run journal error", err)
	}
	// The refused record is forgotten; the acknowledged one is still read,
	// and was copied into bbolt at once (the failed write may have
	// clobbered it in the file).
	wantStatus(t, db, a, store.StatusRunning)
	if n := journalSize(t, dir); n == 0 {
		t.Fatal("nothing was ever written: the test proves nothing")
	}
	os.Truncate(filepath.Join(dir, store.JournalFileName), 0) // as if clobbered
	mend()
	// The journal goes on once the disk works again.
	mustPut(t, db, withStatus(a, store.StatusSucceeded))
	wantStatus(t, db, a, store.StatusSucceeded)
	runs, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: 10})
	if err != nil || len(runs) != 1 || runs[0].Status != store.StatusSucceeded {
		t.Errorf("ListRuns after the failure = %v, %v", runs, err)
	}
}

func TestJournalAppliesAcknowledgedRecordsWhenAWriteFails(t *testing.T) {
	dir := t.TempDir()
	db := openWith(t, dir, keepInJournal(store.Options{}))
	a := newRun(store.StatusRunning)
	mustPut(t, db, a)
	store.BreakJournal(db)
	if err := db.Runs().PutRun(context.Background(), newRun(store.StatusRunning)); err == nil {
		t.Fatal("PutRun on a broken journal succeeded")
	}
	// Read the bbolt file as it is now, without the journal: a crash now
	// must not lose run a.
	crashed := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(crashed, store.FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	again := openDB(t, crashed)
	wantStatus(t, again, a, store.StatusRunning)
}

func openWith(t *testing.T, dir string, opts store.Options) *store.DB {
	t.Helper()
	db, err := store.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
