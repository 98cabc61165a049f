package store

import (
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
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutRun(&Run{ID: NewID(RunPrefix), Kind: "action", Status: StatusSucceeded}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	metas, _ := validMetas(data)
	if len(metas) != 2 {
		t.Fatalf("%d valid meta pages in a fresh file", len(metas))
	}
	for _, m := range metas {
		ps := int(m.pageSize)
		clear(data[int(m.freelist)*ps : int(m.freelist+1)*ps])
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
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
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	metas, _ := validMetas(data)
	newest := 0
	if metas[1].txid > metas[0].txid {
		newest = 1
	}
	data[newest*int(metas[0].pageSize)+boltPageHeader+20] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{})
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
