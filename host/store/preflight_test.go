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
