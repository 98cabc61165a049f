package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRewindCopiesUnappliedRecords: when the writer goes back to the
// start of the file while some records are not yet in bbolt, it writes
// them again in front of its batch, so that a crash right after loses
// none of them.
func TestRewindCopiesUnappliedRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{journal: &journalTuning{applyDelay: time.Hour, applyBatch: 1 << 30, maxBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs []*Run
	for range 5 {
		r := &Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusSucceeded, ActionID: "CA1"}
		runs = append(runs, r)
		if err := db.Runs().PutRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	// The applier took records 1-3; 4 and 5 arrived during its transaction.
	if err := db.journal.applyThrough(3); err != nil {
		t.Fatal(err)
	}
	last := &Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusRunning, ActionID: "CA1"}
	runs = append(runs, last)
	if err := db.Runs().PutRun(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	seqs := journalSeqs(t, db)
	if len(seqs) != 3 || seqs[0] != 4 || seqs[2] != 6 {
		t.Fatalf("journal starts with records %v, want 4 5 6 (the unapplied ones, then the new one)", seqs)
	}

	// A host that died now: its bbolt file and its journal, as they are.
	crashed := t.TempDir()
	copyFile(t, db.Path(), filepath.Join(crashed, FileName))
	copyFile(t, db.journalPath(), filepath.Join(crashed, JournalFileName))
	again, err := Open(crashed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if n := again.Recovered(); n != 3 {
		t.Errorf("Recovered() = %d, want 3", n)
	}
	for _, r := range runs {
		got, err := again.Runs().GetRun(context.Background(), r.ID)
		if err != nil || got.Status != r.Status {
			t.Errorf("run %s after the crash: %v, %v", r.ID, got, err)
		}
	}
	if err := again.Check(); err != nil {
		t.Error(err)
	}
}

// journalSeqs lists the seqs of the valid records at the start of db's
// journal file.
func journalSeqs(t *testing.T, db *DB) []uint64 {
	t.Helper()
	data, err := os.ReadFile(db.journalPath())
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, rec := range readJournal(data) {
		seqs = append(seqs, rec.seq)
	}
	return seqs
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readJournal returns the chain of records at the start of data: each
// one whole and one more in sequence than the one before.
func readJournal(data []byte) []journalRecord {
	var recs []journalRecord
	for len(data) > 0 {
		rec, size, err := readRecord(data)
		if err != nil || (len(recs) > 0 && rec.seq != recs[len(recs)-1].seq+1) {
			break
		}
		recs = append(recs, rec)
		data = data[size:]
	}
	return recs
}

// TestRewindWithLargeRecords: records of 200 KiB (64 KiB inputs and
// outputs make such runs) leave more than minRewindTail unapplied after an
// apply. A file that has reached maxBytes then still goes back to the
// start, copying them, since they are at most an eighth of it, instead of
// being applied in full while every writer waits.
func TestRewindWithLargeRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{journal: &journalTuning{applyDelay: time.Hour, applyBatch: 1 << 30, maxBytes: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	input := []byte(`{"text":"` + strings.Repeat("x", 200<<10) + `"}`)
	var runs []*Run
	put := func() {
		t.Helper()
		r := &Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusRunning, ActionID: "CA1", Input: input}
		runs = append(runs, r)
		if err := db.Runs().PutRun(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	for range 21 { // the last one takes the file past maxBytes
		put()
	}
	// Records 20 and 21 (400 KiB) arrived during the applier's transaction.
	if err := db.journal.applyThrough(19); err != nil {
		t.Fatal(err)
	}
	put()
	if seqs := journalSeqs(t, db); len(seqs) != 3 || seqs[0] != 20 || seqs[2] != 22 {
		t.Fatalf("journal starts with records %v, want 20 21 22 (the unapplied ones, then the new one)", seqs)
	}
	if got := db.journal.applied; got != 19 {
		t.Errorf("applied through record %d, want 19: the full file was applied instead of rewound", got)
	}
	if err := db.journal.apply(); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if _, err := db.Runs().GetRun(context.Background(), r.ID); err != nil {
			t.Errorf("run %s: %v", r.ID, err)
		}
	}
}
