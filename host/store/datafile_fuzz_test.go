package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// seedFile is a closed data file holding seedRuns runs, made once.
var seedFile struct {
	once sync.Once
	data []byte
	ids  []string
	err  error
}

const seedRuns = 40

func damagedFileSeed() ([]byte, []string, error) {
	seedFile.once.Do(func() {
		dir, err := os.MkdirTemp("", "fuzz-datafile-")
		if err != nil {
			seedFile.err = err
			return
		}
		defer os.RemoveAll(dir)
		db, err := Open(dir, Options{})
		if err != nil {
			seedFile.err = err
			return
		}
		for i := range seedRuns {
			r := &Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusSucceeded, ActionID: "CA1", PluginID: "CP1",
				Input: []byte(fmt.Sprintf(`{"n":%d,"pad":"%0500d"}`, i, i))}
			if err := db.Runs().PutRun(context.Background(), r); err != nil {
				seedFile.err = err
				return
			}
			seedFile.ids = append(seedFile.ids, r.ID)
		}
		if _, _, err := db.Keys().CreateKey(context.Background(), "fuzz"); err != nil {
			seedFile.err = err
			return
		}
		if err := db.Close(); err != nil {
			seedFile.err = err
			return
		}
		seedFile.data, seedFile.err = os.ReadFile(filepath.Join(dir, FileName))
	})
	return seedFile.data, seedFile.ids, seedFile.err
}

// FuzzCheckDamagedFile damages a data file (bytes overwritten with one
// value, or the file cut short) and opens and checks it: neither may
// panic or fault; a damaged file is refused (ErrDamaged) or reported by
// Check; and a file that Check passes still holds every run, readable.
func FuzzCheckDamagedFile(f *testing.F) {
	f.Add(uint32(524288), uint16(0), byte(0), true)
	f.Add(uint32(16), uint16(64), byte(0xff), false)    // the first meta page
	f.Add(uint32(4096*2), uint16(4096), byte(0), false) // a page zeroed
	f.Add(uint32(4096*3+20), uint16(8), byte(0x7f), false)
	f.Add(uint32(4096*5+100), uint16(200), byte('x'), false)
	f.Fuzz(func(t *testing.T, off uint32, length uint16, fill byte, cut bool) {
		seed, ids, err := damagedFileSeed()
		if err != nil {
			t.Fatal(err)
		}
		data := append([]byte(nil), seed...)
		from := int(off % uint32(len(data)+1))
		if cut {
			data = data[:from]
		} else {
			for i := from; i < min(len(data), from+int(length)); i++ {
				data[i] = fill
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := Open(dir, Options{Timeout: 5 * time.Second})
		if err != nil {
			return // refused, with a message: fine
		}
		defer db.Close()
		if err := db.Check(); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Logf("Check: %v", err)
			}
			return
		}
		// A file that checks clean has every run, readable; but with one
		// meta page damaged bbolt uses the other, a transaction older,
		// as after a crash in the middle of a commit.
		if metas, _ := validMetas(data[:min(len(data), 2*maxBoltPageSize)]); len(metas) < 2 {
			return
		}
		for _, id := range ids {
			if _, err := db.Runs().GetRun(context.Background(), id); err != nil {
				t.Fatalf("Check passed but run %s: %v", id, err)
			}
		}
		if _, err := db.Runs().ListRunsPage(context.Background(), RunFilter{}, Page{Limit: MaxLimit}); err != nil {
			t.Fatalf("Check passed but ListRuns: %v", err)
		}
	})
}
