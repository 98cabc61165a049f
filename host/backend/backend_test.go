package backend_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/store"
)

func TestOpenBolt(t *testing.T) {
	dir := t.TempDir()
	s, err := backend.Open(context.Background(), backend.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Kind() != config.BackendBolt || s.Where() != filepath.Join(dir, store.FileName) || backend.BoltDB(s) == nil || backend.PostgresDB(s) != nil {
		t.Fatalf("bbolt store: kind %s where %s", s.Kind(), s.Where())
	}
	if _, err := s.Runs().InterruptRuns(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Counts(context.Background()); err != nil || c.Runs != 0 || c.Bytes == 0 {
		t.Fatalf("Counts = %+v, %v", c, err)
	}
}

func TestOpenRefusesUnknownBackend(t *testing.T) {
	_, err := backend.Open(context.Background(), backend.Options{Store: config.Store{Backend: "mysql"}, DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `got "mysql"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadSecretKey(t *testing.T) {
	pg := config.Store{Backend: config.BackendPostgres, DSN: "postgres://h/db"}
	none := func(string) string { return "" }
	_, err := backend.LoadSecretKey(pg, t.TempDir(), none)
	if err == nil || !strings.Contains(err.Error(), "set TOOLHOST_SECRET_KEY") || !strings.Contains(err.Error(), "same on every replica") {
		t.Fatalf("postgres without the key: %v", err)
	}
	hexKey := strings.Repeat("ab", 32)
	env := func(k string) string {
		if k == store.SecretKeyEnv {
			return hexKey
		}
		return ""
	}
	if k, err := backend.LoadSecretKey(pg, t.TempDir(), env); err != nil || len(k) != 32 {
		t.Fatalf("postgres with the key: %d bytes, %v", len(k), err)
	}
	// bbolt makes a key file on first use.
	dir := t.TempDir()
	if k, err := backend.LoadSecretKey(config.Store{}, dir, none); err != nil || len(k) != 32 {
		t.Fatalf("bbolt: %d bytes, %v", len(k), err)
	}
}
