package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

// TestJournalDamageIsSkippedAndReported (issue 12, defect 6): 30 runs
// acknowledged one by one, the host killed, 64 bytes zeroed a quarter of
// the way into the journal. Replay skips the damaged record, recovers
// every other one, and reports the loss with its sequence range.
func TestJournalDamageIsSkippedAndReported(t *testing.T) {
	dir := t.TempDir()
	var runs []*store.Run
	var steps []journalStep
	for range 30 {
		r := newRun(store.StatusSucceeded)
		runs = append(runs, r)
		steps = append(steps, put(r))
	}
	crashAfter(t, dir, steps)
	path := filepath.Join(dir, store.JournalFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := len(data) / 4
	clear(data[at : at+64])
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	db := openDB(t, dir)
	missing := 0
	for _, r := range runs {
		if _, err := db.Runs().GetRun(context.Background(), r.ID); errors.Is(err, store.ErrNotFound) {
			missing++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// 64 bytes reach into at most two records of about 200 bytes.
	if missing < 1 || missing > 2 {
		t.Errorf("%d of 30 runs missing after 64 damaged bytes, want 1 or 2 (the damaged records only)", missing)
	}
	if got := db.Recovered(); got != 30-missing {
		t.Errorf("Recovered() = %d, want %d", got, 30-missing)
	}
	d := db.JournalDamage()
	if d.Lost != missing || d.FirstSeq < 2 || d.LastSeq != d.FirstSeq+uint64(missing)-1 || d.Bytes == 0 {
		t.Errorf("JournalDamage() = %+v, want %d lost with their sequence range", d, missing)
	}
	if s := d.String(); !strings.Contains(s, "damaged and lost") {
		t.Errorf("damage says %q", s)
	}
	mustCheck(t, db)
	db.Close()

	// The damage was reported once; the journal is empty now.
	again := openDB(t, dir)
	if d := again.JournalDamage(); d.Lost != 0 {
		t.Errorf("second open reports %+v", d)
	}
}

// TestJournalTornTailIsNotDamage: a torn last write is a normal crash,
// not damage.
func TestJournalTornTailIsNotDamage(t *testing.T) {
	dir := t.TempDir()
	a, b := newRun(store.StatusRunning), newRun(store.StatusRunning)
	crashAfter(t, dir, []journalStep{put(a), put(b)})
	if err := os.Truncate(filepath.Join(dir, store.JournalFileName), journalSize(t, dir)-5); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir)
	if d := db.JournalDamage(); d.Lost != 0 {
		t.Errorf("a torn tail reported as damage: %+v", d)
	}
	wantStatus(t, db, a, store.StatusRunning)
}

// TestOpenRefusesATruncatedFile (defect 4): a file cut short is refused
// before bbolt maps it, with an error naming the file and what to do.
func TestOpenRefusesATruncatedFile(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	big := strings.Repeat("x", 64<<10)
	for range 20 {
		r := newRun(store.StatusSucceeded)
		r.Input = []byte(`{"text":"` + big + `"}`)
		mustPut(t, db, r)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, store.FileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= 524288 {
		t.Fatalf("file is only %d bytes; the test needs more", fi.Size())
	}
	if err := os.Truncate(path, 524288); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(dir, store.Options{SecretKey: testKey})
	if !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Open of a truncated file: %v, want ErrDamaged", err)
	}
	for _, want := range []string{path, "cut short", "backup", "toolhost db check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The refused file is left as it was, and the lock released.
	if fi, _ := os.Stat(path); fi.Size() != 524288 {
		t.Errorf("file is %d bytes after the refused open", fi.Size())
	}
}

// TestOpenRefusesDamagedMetaPages: both meta pages damaged.
func TestOpenRefusesDamagedMetaPages(t *testing.T) {
	dir := t.TempDir()
	openDB(t, dir).Close()
	path := filepath.Join(dir, store.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{16 + 20, 4096 + 16 + 20} {
		data[off] ^= 0xff
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(dir, store.Options{SecretKey: testKey})
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "meta page") {
		t.Fatalf("Open: %v, want ErrDamaged about the meta pages", err)
	}
}

// TestOpenRefusesAnEmptyFileThatHeldData (defect 6): an empty toolhost.db
// next to a journal or a key file is not silently made a new database.
func TestOpenRefusesAnEmptyFileThatHeldData(t *testing.T) {
	for _, other := range []string{store.JournalFileName, store.SecretKeyFile} {
		t.Run(other, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, store.FileName), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, other), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(dir, store.Options{SecretKey: testKey})
			if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), other) {
				t.Fatalf("Open: %v, want ErrDamaged naming %s", err, other)
			}
			if fi, _ := os.Stat(filepath.Join(dir, store.FileName)); fi.Size() != 0 {
				t.Error("the empty file was written")
			}
		})
	}
	// A new directory with an empty file and nothing else still opens.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	openDB(t, dir)
}

// damageRun flips a byte inside run id's record in the closed file at
// dir (every copy of it: bbolt may keep an older page with it too).
func damageRun(t *testing.T, dir, id string) {
	t.Helper()
	path := filepath.Join(dir, store.FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(`{"id":"` + id + `"`)
	n := 0
	for i := 0; ; {
		j := bytes.Index(data[i:], rec)
		if j < 0 {
			break
		}
		data[i+j+len(rec)+1] ^= 0x80 // the quote opening the next field name: not JSON any more
		i += j + len(rec)
		n++
	}
	if n == 0 {
		t.Fatalf("record of %s not found in the file", id)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// closedRuns stores n runs in status in a new data directory, and closes
// it.
func closedRuns(t *testing.T, n int, status string) (string, []*store.Run) {
	t.Helper()
	dir := t.TempDir()
	db := openDB(t, dir)
	var runs []*store.Run
	for range n {
		r := newRun(status)
		runs = append(runs, r)
		mustPut(t, db, r)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, runs
}

// TestDamagedRunRecords (defect 5): a record with flipped bytes does not
// fail the pages it is on; it is named, Check lists it, and quarantine
// moves it aside so that the file checks clean again.
func TestDamagedRunRecords(t *testing.T) {
	dir, runs := closedRuns(t, 10, store.StatusSucceeded)
	bad := runs[4].ID
	damageRun(t, dir, bad)

	db := openDB(t, dir)
	if d := db.Damage(); d.Runs != -1 {
		t.Errorf("Damage().Runs = %d before a scan, want -1", d.Runs)
	}
	list, more, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: 100})
	if err != nil || len(list) != 9 || more {
		t.Fatalf("ListRuns = %d runs, more %v, %v; want the 9 intact ones", len(list), more, err)
	}
	pg, err := db.Runs().ListRunsPage(context.Background(), store.RunFilter{Status: store.StatusSucceeded}, store.Page{Limit: 5, Order: store.OrderAsc})
	if err != nil || len(pg.Runs) != 5 || !pg.HasMore || len(pg.Damaged) != 1 || pg.Damaged[0] != bad {
		t.Fatalf("ListRunsPage = %d runs, more %v, damaged %v, %v; want 5, true, [%s]", len(pg.Runs), pg.HasMore, pg.Damaged, err, bad)
	}
	// A page whose next record would be the damaged one says there is more.
	pg, err = db.Runs().ListRunsPage(context.Background(), store.RunFilter{}, store.Page{Limit: 4, Order: store.OrderAsc})
	if err != nil || len(pg.Runs) != 4 || !pg.HasMore || len(pg.Damaged) != 0 {
		t.Fatalf("first page = %d runs, more %v, damaged %v, %v", len(pg.Runs), pg.HasMore, pg.Damaged, err)
	}
	err = db.Check()
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "db repair") {
		t.Fatalf("Check = %v, want ErrCorrupt naming %s", err, bad)
	}
	found, err := db.DamagedRuns()
	if err != nil || len(found) != 1 || found[0].ID != bad {
		t.Fatalf("DamagedRuns = %v, %v", found, err)
	}
	if d := db.Damage(); d.Runs != 1 {
		t.Errorf("Damage().Runs = %d, want 1", d.Runs)
	}
	moved, err := db.QuarantineDamagedRuns()
	if err != nil || len(moved) != 1 {
		t.Fatalf("QuarantineDamagedRuns = %v, %v", moved, err)
	}
	mustCheck(t, db)
	if n, err := db.QuarantinedRuns(); n != 1 || err != nil {
		t.Errorf("QuarantinedRuns = %d, %v", n, err)
	}
	if st, err := db.Stats(); err != nil || st.Runs != 9 {
		t.Errorf("Stats().Runs = %d, %v; want 9", st.Runs, err)
	}
	if _, err := db.Runs().GetRun(context.Background(), bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun of the quarantined run: %v", err)
	}
}

// TestInterruptRunsSkipsDamagedRecords: a damaged record among the runs a
// stopped host left running does not stop the others being interrupted.
func TestInterruptRunsSkipsDamagedRecords(t *testing.T) {
	dir, runs := closedRuns(t, 5, store.StatusRunning)
	damageRun(t, dir, runs[1].ID)
	db := openDB(t, dir)
	n, err := db.Runs().InterruptRuns(context.Background())
	if err != nil || n != 4 {
		t.Fatalf("InterruptRuns = %d, %v; want the 4 intact runs", n, err)
	}
	for i, r := range runs {
		if i != 1 {
			wantStatus(t, db, r, store.StatusFailed)
		}
	}
}
