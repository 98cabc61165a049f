package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/host/store"
)

func TestOpenCreatesDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db := openDB(t, dir)
	for name, want := range map[string]os.FileMode{"": 0o700, store.FileName: 0o600, store.PIDFileName: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%q has mode %o, want %o", name, got, want)
		}
	}
	pid, _ := os.ReadFile(filepath.Join(dir, store.PIDFileName))
	if strings.TrimSpace(string(pid)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file holds %q, want %d", pid, os.Getpid())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, store.PIDFileName)); !os.IsNotExist(err) {
		t.Errorf("pid file left after Close: %v", err)
	}
	if err := db.Runs().PutRun(context.Background(), newRun(store.StatusQueued)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("PutRun after Close = %v, want ErrClosed", err)
	}
	if _, err := db.Runs().GetRun(context.Background(), "run_x"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("GetRun after Close = %v, want ErrClosed", err)
	}
}

func TestSecondOpenFailsFastWithPID(t *testing.T) {
	dir := t.TempDir()
	openDB(t, dir)

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childOpenEnv+"="+dir)
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	want := "data directory " + dir + " in use by another toolhost (pid " + strconv.Itoa(os.Getpid()) + ")"
	if res.Err != want {
		t.Errorf("second Open error = %q, want %q", res.Err, want)
	}
	if !res.IsInUse {
		t.Errorf("second Open error does not wrap ErrInUse")
	}
	if res.Duration > 1500*time.Millisecond {
		t.Errorf("second Open took %v (process %v), want ≤ 1.5s", res.Duration, elapsed)
	}
}

func TestSchemaFromTheFutureRefused(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	db.Close()

	b, err := bbolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte("2"))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}

	_, err = store.Open(dir, store.Options{})
	if !errors.Is(err, store.ErrSchemaVersion) {
		t.Fatalf("Open = %v, want ErrSchemaVersion", err)
	}
	if !strings.Contains(err.Error(), "schema version 2") || !strings.Contains(err.Error(), "upgrade toolhost") {
		t.Errorf("message %q does not say what is wrong", err)
	}
	// The failed open released the lock and left no pid file behind.
	if _, err := os.Stat(filepath.Join(dir, store.PIDFileName)); !os.IsNotExist(err) {
		t.Errorf("pid file left after failed Open: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	r := newRun(store.StatusRunning)
	mustPut(t, db, r)
	db.Close()

	db = openDB(t, dir)
	got, err := db.Runs().GetRun(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusRunning || !got.CreatedAt.Equal(r.CreatedAt) {
		t.Errorf("reopened run = %+v, want %+v", got, r)
	}
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs != 1 || st.FileSize == 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestSecretKeyOptionSize(t *testing.T) {
	_, err := store.Open(t.TempDir(), store.Options{SecretKey: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("Open with a 5-byte key = %v", err)
	}
}
