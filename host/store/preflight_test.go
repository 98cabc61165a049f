package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRecoversBboltPanic: a file whose size and meta pages are fine
// but whose freelist page is zeroed makes bbolt panic ("invalid freelist
// page"); Open returns an error naming the file instead, and releases
// the lock.
func TestOpenRecoversBboltPanic(t *testing.T) {
	dir, path, data, metas := closedFile(t)
	for _, m := range metas {
		ps := int(m.pageSize)
		clear(data[int(m.freelist)*ps : int(m.freelist+1)*ps])
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "bbolt failed reading it") {
		t.Fatalf("Open = %v, want ErrDamaged naming the file", err)
	}
	// The lock was released: a second attempt fails the same way, at once.
	_, err = Open(dir, Options{Timeout: 100_000_000})
	if errors.Is(err, ErrInUse) {
		t.Fatalf("the file is still locked after the refused open: %v", err)
	}
}

// TestOneDamagedMetaPageIsReported: with the newer meta page damaged,
// bbolt reads the file as of the older one; Open says so.
func TestOneDamagedMetaPageIsReported(t *testing.T) {
	dir, path, data, metas := closedFile(t)
	newest := 0
	if metas[1].txid > metas[0].txid {
		newest = 1
	}
	data[newest*int(metas[0].pageSize)+boltPageHeader+20] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if w := db.Damage().File; !strings.Contains(w, "meta pages") || !strings.Contains(w, path) {
		t.Errorf("Damage().File = %q", w)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check after Open rewrote the meta page: %v", err)
	}
}

// closedFile makes a data file holding one run, closed, and returns its
// directory, path, bytes and valid meta pages (both).
func closedFile(t *testing.T) (dir, path string, data []byte, metas []boltMeta) {
	t.Helper()
	dir = t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Runs().PutRun(context.Background(), &Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, FileName)
	if data, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	if metas, _ = validMetas(data); len(metas) != 2 {
		t.Fatalf("%d valid meta pages in a fresh file", len(metas))
	}
	return dir, path, data, metas
}
