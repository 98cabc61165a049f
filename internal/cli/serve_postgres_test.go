package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/internal/pgtest"
)

// pgSite is a config file whose store is the PostgreSQL database in
// TOOLHOST_DATABASE_URL, and the environment the replicas share.
func pgSite(t *testing.T) (*site, map[string]string) {
	t.Helper()
	s := newSite(t)
	hcl := fmt.Sprintf("store {\n  backend = \"postgres\"\n  dsn = env(\"TOOLHOST_DATABASE_URL\")\n}\nplugin \"testkit\" {\n  path = %q\n}\n", testkitBin)
	if err := os.WriteFile(s.cfg, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"TOOLHOST_DATABASE_URL": pgtest.DSN(t), "TOOLHOST_SECRET_KEY": hex.EncodeToString(make([]byte, 32))}
	return s, vars
}

// replica is `toolhost serve` running in-process on its own data
// directory and address.
type replica struct {
	url  string
	out  *syncBuffer
	done chan int
}

func startReplica(t *testing.T, cfg string, vars map[string]string) *replica {
	t.Helper()
	addr := freeAddr(t)
	r := &replica{url: "http://" + addr, out: &syncBuffer{}, done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		r.done <- Run(ctx, []string{"serve", "--config", cfg, "--data-dir", t.TempDir(), "--listen", addr}, getenvFrom(vars), r.out, r.out)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			t.Errorf("serve did not stop:\n%s", r.out)
		}
	})
	return r
}

func (r *replica) waitUp(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(r.url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case code := <-r.done:
			t.Fatalf("serve exited with %d:\n%s", code, r.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up:\n%s", r.out)
		}
	}
}

func (r *replica) status(t *testing.T, path, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.url+path, nil)
	req.Header.Set("x-api-key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var printedKey = regexp.MustCompile(`\n    (th_[A-Za-z0-9_-]+)\n`)

// TestServeReplicasOnPostgres: two replicas started together on one
// database both come up (migrating once, making one first key); a key
// made on one, or by `key create` against the database, works on both.
func TestServeReplicasOnPostgres(t *testing.T) {
	s, vars := pgSite(t)
	var wg sync.WaitGroup
	reps := make([]*replica, 2)
	for i := range reps {
		reps[i] = startReplica(t, s.cfg, vars)
	}
	for _, r := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); r.waitUp(t) }()
	}
	wg.Wait()
	var keys []string
	for _, r := range reps {
		if m := printedKey.FindStringSubmatch(r.out.String()); m != nil {
			keys = append(keys, m[1])
		}
		if !strings.Contains(r.out.String(), "store: postgres at 127.0.0.1:") {
			t.Errorf("the start banner does not name the database:\n%s", r.out)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("%d replicas printed a first key, want 1:\n%s\n---\n%s", len(keys), reps[0].out, reps[1].out)
	}
	for i, r := range reps {
		if code := r.status(t, "/v1/actions", keys[0]); code != http.StatusOK {
			t.Errorf("replica %d: the first key gives %d", i, code)
		}
	}
	res := must(t, run(t, vars, "key", "create", "--name", "ci", "--config", s.cfg, "--data-dir", filepath.Join(s.dir, "cli")), ExitOK)
	m := regexp.MustCompile(`th_[A-Za-z0-9_-]{20,}`).FindString(res.stdout)
	if m == "" {
		t.Fatalf("key create printed no key: %s", res)
	}
	for i, r := range reps {
		if code := r.status(t, "/v1/actions", m); code != http.StatusOK {
			t.Errorf("replica %d: the key made by key create gives %d", i, code)
		}
	}
	res = must(t, run(t, vars, "key", "list", "--config", s.cfg), ExitOK)
	contains(t, "key list on postgres", res.stdout, "default", "ci")
}

func TestServeOnPostgresNeedsTheSecretKey(t *testing.T) {
	s, vars := pgSite(t)
	delete(vars, "TOOLHOST_SECRET_KEY")
	res := run(t, vars, "serve", "--config", s.cfg, "--data-dir", s.data, "--listen", freeAddr(t))
	if res.code == ExitOK || !strings.Contains(res.stderr, "set TOOLHOST_SECRET_KEY") || !strings.Contains(res.stderr, "same on every replica") {
		t.Fatalf("serve without TOOLHOST_SECRET_KEY: %s", res)
	}
	vars["TOOLHOST_DATABASE_URL"] = "postgres://toolhost:hunter2@127.0.0.1:1/toolhost?connect_timeout=2"
	vars["TOOLHOST_SECRET_KEY"] = hex.EncodeToString(make([]byte, 32))
	res = run(t, vars, "serve", "--config", s.cfg, "--data-dir", s.data, "--listen", freeAddr(t))
	if res.code == ExitOK || !strings.Contains(res.stderr, "database at 127.0.0.1:1 unreachable") || strings.Contains(res.stdout+res.stderr, "hunter2") {
		t.Fatalf("serve with an unreachable database: %s", res)
	}
}

func TestBoltOnlyDBCommandsOnPostgres(t *testing.T) {
	s, vars := pgSite(t)
	for _, cmd := range []string{"compact", "repair"} {
		res := must(t, run(t, vars, "db", cmd, "--config", s.cfg), ExitUsage)
		contains(t, "db "+cmd+" on postgres", res.stderr, "works on the bbolt file", "PostgreSQL")
	}
}
