package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/pgtest"
)

// TestPostgresBackend: a host on PostgreSQL runs actions and keeps them
// there; while the database is unreachable /health says degraded, naming
// its host and port but never the password, and new runs are refused with
// 503; once it is back, both recover by themselves.
func TestPostgresBackend(t *testing.T) {
	dsn := pgtest.DSN(t)
	withPassword := strings.Replace(dsn, "postgres@", "postgres:hunter2-secret@", 1)
	h := newHost(t, func(c *config.Config) {
		c.Store = config.Store{Backend: config.BackendPostgres, DSN: withPassword}
	})
	if h.app.DB != nil || h.app.Store.Kind() != config.BackendPostgres {
		t.Fatalf("store = %s (bbolt DB %v), want postgres", h.app.Store.Kind(), h.app.DB)
	}
	code, body, _ := h.do(t, "POST", "/v1/actions/testkit.echo/run", `{"text":"hi"}`, testKey)
	if code != 200 {
		t.Fatalf("run: %d %s", code, body)
	}
	var n int
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, strings.Replace(dsn, dbOf(dsn), "postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, "SELECT count(*) FROM runs WHERE status = 'succeeded'").Scan(&n)
	conn.Close(ctx)
	if err != nil || n != 1 {
		t.Fatalf("succeeded runs in the database: %d (%v), want 1", n, err)
	}

	// The database goes away for this host.
	name := dbOf(dsn)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	health := func() string {
		_, body, _ := h.do(t, "GET", "/health", "", "")
		var out struct {
			Data struct{ Status string } `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("/health: %v: %s", err, body)
		}
		return out.Data.Status
	}
	waitUntil(t, 10*time.Second, func() bool { return health() == "degraded" })
	_, body, _ = h.do(t, "GET", "/health", "", "")
	if !strings.Contains(body, "127.0.0.1:") || strings.Contains(body, "hunter2") {
		t.Errorf("/health while the database is gone: %s (want its host and port, never the password)", body)
	}
	code, body, _ = h.do(t, "POST", "/v1/actions/testkit.echo/run", `{"text":"hi"}`, testKey)
	if code != 503 || strings.Contains(body, "hunter2") {
		t.Errorf("run while the database is gone: %d %s, want 503 without the password", code, body)
	}

	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true")
	waitUntil(t, 10*time.Second, func() bool { return health() == "ok" })
	if code, body, _ := h.do(t, "POST", "/v1/actions/testkit.echo/run", `{"text":"again"}`, testKey); code != 200 {
		t.Fatalf("run after the database came back: %d %s", code, body)
	}
}

func dbOf(dsn string) string {
	s := dsn[strings.LastIndex(dsn, "/")+1:]
	s, _, _ = strings.Cut(s, "?")
	return s
}

func waitUntil(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
