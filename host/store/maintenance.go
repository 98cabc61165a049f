package store

import (
	"errors"
	"fmt"
	"os"

	"go.etcd.io/bbolt"
)

// maxCheckErrors bounds the problems Check reports.
const maxCheckErrors = 100

// Check verifies the file (bbolt's page-level consistency check, which
// holds the writer while it runs) and the
// store's own invariants: every index entry points to a run whose field has
// that value, every run is in each index it belongs to, the run count is
// right, and every API key digest points to its key. It returns nil or an
// error wrapping ErrCorrupt that lists the problems found.
func (db *DB) Check() error {
	if err := db.journal.settle(); err != nil {
		return err
	}
	var problems []error
	report := func(format string, args ...any) bool {
		problems = append(problems, fmt.Errorf(format, args...))
		return len(problems) < maxCheckErrors
	}
	// bbolt's check reads the freelist, which only a write transaction
	// keeps still; the store's own checks read a snapshot and let writers on.
	err := db.update(func(tx *bbolt.Tx) error {
		// First the page tree, read without bbolt: bbolt's check follows
		// a damaged page reference past the end of the file and faults.
		pages, err := walkPages(db.Path())
		if err != nil {
			return err
		}
		for _, p := range pages {
			report("pages: %w", p)
		}
		if len(pages) > 0 {
			return nil
		}
		for err := range tx.Check() {
			report("bbolt: %w", err)
		}
		return nil
	})
	if err == nil && len(problems) == 0 { // with bad pages, reading records may not be safe
		err = db.view(func(tx *bbolt.Tx) error {
			checkRuns(tx, report)
			checkKeys(tx, report)
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("checking database: %w", err)
	}
	if len(problems) > 0 {
		return &wrapped{
			Msg: fmt.Sprintf("%s: %v", ErrCorrupt, errors.Join(problems...)),
			Err: ErrCorrupt,
		}
	}
	return nil
}

func checkRuns(tx *bbolt.Tx, report func(string, ...any) bool) {
	runs := tx.Bucket(bucketRuns)
	n := uint64(0)
	_ = runs.ForEach(func(k, v []byte) error {
		n++
		r, err := decodeRunKeys(v)
		if err == nil {
			_, err = decodeRun(string(k), v) // what every read of it does
		}
		if err != nil {
			report("run %s: damaged record (%v); `toolhost db repair` moves it aside", k, err)
			return nil
		}
		if r.ID != string(k) {
			report("run stored under %s has id %s", k, r.ID)
		}
		for _, ix := range runIndexes {
			val := ix.field(r)
			if val != "" && tx.Bucket(ix.bucket).Get(indexKey(val, string(k))) == nil {
				report("run %s is missing from the %s index under %q", k, ix.name, val)
			}
		}
		return nil
	})
	if count := getUint64(tx.Bucket(bucketMeta), metaRunCount); count != n {
		report("run count is %d but %d runs are stored", count, n)
	}
	for _, ix := range runIndexes {
		_ = tx.Bucket(ix.bucket).ForEach(func(k, _ []byte) error {
			val, id, ok := splitIndexKey(k)
			if !ok {
				report("%s index: malformed key %q", ix.name, k)
				return nil
			}
			v := runs.Get([]byte(id))
			if v == nil {
				report("%s index: entry %q points to missing run %s", ix.name, val, id)
				return nil
			}
			if r, err := decodeRunKeys(v); err == nil && ix.field(r) != val {
				report("%s index: run %s is under %q but has %q", ix.name, id, val, ix.field(r))
			}
			return nil
		})
	}
}

func checkKeys(tx *bbolt.Tx, report func(string, ...any) bool) {
	keys := tx.Bucket(bucketKeys)
	digests := tx.Bucket(bucketKeyDigests)
	_ = keys.ForEach(func(k, v []byte) error {
		key, err := decodeKey(k, v)
		if err != nil {
			report("%v", err)
		} else if string(digests.Get(key.Digest)) != string(k) {
			report("key %q is missing from the digest index", k)
		}
		return nil
	})
	_ = digests.ForEach(func(d, name []byte) error {
		if keys.Get(name) == nil {
			report("digest index points to missing key %q", name)
		}
		return nil
	})
}

// compactTxSize is how many bytes Compact copies per transaction.
const compactTxSize = 64 << 20

// Compact copies the database at srcPath into a new file dstPath, leaving
// out free pages. srcPath must not be open elsewhere (stop the host); the
// copy can then replace it. dstPath must not exist.
func Compact(srcPath, dstPath string) error {
	if _, err := os.Stat(dstPath); err == nil {
		return fmt.Errorf("compacting into %s: file exists", dstPath)
	}
	src, err := bbolt.Open(srcPath, 0o600, &bbolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return fmt.Errorf("compacting: opening %s: %w", srcPath, err)
	}
	defer src.Close()
	dst, err := bbolt.Open(dstPath, 0o600, &bbolt.Options{Timeout: DefaultTimeout, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("compacting: creating %s: %w", dstPath, err)
	}
	if err := bbolt.Compact(dst, src, compactTxSize); err != nil {
		dst.Close()
		os.Remove(dstPath)
		return fmt.Errorf("compacting %s into %s: %w", srcPath, dstPath, err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("compacting: closing %s: %w", dstPath, err)
	}
	return nil
}

// Stats describes the database.
type Stats struct {
	FileSize int64 // bytes
	Runs     int
	Threads  int
	Plugins  int
	Keys     int
}

// Stats returns the file size and record counts. Counting threads walks
// the threads bucket; runs are counted as they are written.
func (db *DB) Stats() (Stats, error) {
	var s Stats
	if err := db.journal.settle(); err != nil {
		return s, err
	}
	err := db.view(func(tx *bbolt.Tx) error {
		s.FileSize = tx.Size()
		if fi, err := os.Stat(db.Path()); err == nil {
			s.FileSize = fi.Size()
		}
		s.Runs = int(getUint64(tx.Bucket(bucketMeta), metaRunCount))
		s.Threads = tx.Bucket(bucketThreads).Stats().KeyN
		s.Plugins = tx.Bucket(bucketPlugins).Stats().KeyN
		s.Keys = tx.Bucket(bucketKeys).Stats().KeyN
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("reading stats: %w", err)
	}
	return s, nil
}
