package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/internal/pgtest"
)

// boltFixture is what populate stored in a bbolt data directory.
type boltFixture struct {
	key      []byte // the secret key
	apiKey   string // plaintext of key "ci"
	runs     []*domain.Run
	threadID string
	msgs     []*domain.Message
}

const fixtureSecret = "s3cr3t-password-value"

// populate fills the data directory's bbolt file with every kind of
// record, then closes it.
func populate(t *testing.T, dataDir string) boltFixture {
	t.Helper()
	ctx := context.Background()
	key, err := store.LoadSecretKey(dataDir, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dataDir, store.Options{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f := boltFixture{key: key}
	if f.apiKey, _, err = db.Keys().CreateKey(ctx, "ci", "read", "run"); err != nil {
		t.Fatal(err)
	}
	if err := db.Plugins().PutPlugin(ctx, &domain.PluginRecord{Name: "gmail", Path: "/bin/gmail", Version: "1",
		Config: map[string]string{"password": fixtureSecret, "sender": "Assistant"}, SecretKeys: []string{"password"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Plugins().PutManifest(ctx, "abc123", []byte(`{"name":"gmail"}`)); err != nil {
		t.Fatal(err)
	}
	th := &domain.Thread{Metadata: map[string]string{"topic": "copy"}, KeyID: "key_1"}
	f.msgs = []*domain.Message{{Role: "user", Content: "hello"}, {Role: "assistant", Content: "hi"}}
	if err := db.Threads().CreateThread(ctx, th, f.msgs); err != nil {
		t.Fatal(err)
	}
	f.threadID = th.ID
	for i, st := range []string{domain.StatusSucceeded, domain.StatusFailed, domain.StatusRunning, domain.StatusQueued} {
		r := &domain.Run{Kind: "action", ActionID: "CA1", PluginID: "CP1", Status: st, ThreadID: th.ID, KeyID: "key_1",
			Input:  json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`),
			Events: []domain.Event{{Seq: 1, Type: "run.created", At: time.Now().UTC()}}}
		if err := db.Runs().PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		f.runs = append(f.runs, r)
	}
	if _, err := db.Idempotency().BeginIdempotent(ctx, &domain.IdempotencyRecord{Key: "key_1\x00k1", BodyDigest: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Idempotency().FinishIdempotent(ctx, "key_1\x00k1", f.runs[0].ID); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDBCopyBoltToPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := newSite(t)
	f := populate(t, s.data)
	none := map[string]string{}

	r := must(t, run(t, none, s.args("db", "copy", "--from", "bbolt", "--to", "postgres", "--dsn", dsn)...), ExitOK)
	contains(t, "db copy", r.stdout, "plugins:     1", "manifests:   1", "keys:        1", "runs:        4",
		"threads:     1", "messages:    2", "idempotency: 1", "TOOLHOST_SECRET_KEY")

	// Everything reads back through the PostgreSQL store, with the key the
	// bbolt host used.
	ctx := context.Background()
	db, err := pgstore.Open(ctx, pgstore.Options{DSN: dsn, SecretKey: f.key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, want := range f.runs {
		got, err := db.Runs().GetRun(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(want)
		if string(a) != string(b) {
			t.Errorf("run %s copied as\n%s\nwant\n%s", want.ID, a, b)
		}
	}
	page, _, err := db.Runs().ListRuns(ctx, domain.RunFilter{Status: domain.StatusRunning, ThreadID: f.threadID}, domain.Page{})
	if err != nil || len(page) != 1 || page[0].ID != f.runs[2].ID {
		t.Errorf("filtered list after copy: %v, %v", page, err)
	}
	if k, err := db.Keys().Authenticate(ctx, f.apiKey); err != nil || k.Name != "ci" || len(k.Scopes) != 2 {
		t.Errorf("the copied key does not authenticate: %+v, %v", k, err)
	}
	p, err := db.Plugins().GetPlugin(ctx, "gmail")
	if err != nil || p.Config["password"] != fixtureSecret || p.Config["sender"] != "Assistant" {
		t.Errorf("copied plugin: %+v, %v", p, err)
	}
	if m, err := db.Plugins().GetManifest(ctx, "abc123"); err != nil || string(m) != `{"name":"gmail"}` {
		t.Errorf("copied manifest: %s, %v", m, err)
	}
	msgs, _, err := db.Threads().ListMessages(ctx, f.threadID, domain.Page{Order: "asc"})
	if err != nil || len(msgs) != 2 || msgs[0].Content != "hello" || msgs[1].ID != f.msgs[1].ID {
		t.Errorf("copied messages: %v, %v", msgs, err)
	}
	if th, _, err := db.Threads().ListThreads(ctx, "key_1", domain.Page{}); err != nil || len(th) != 1 || th[0].Metadata["topic"] != "copy" {
		t.Errorf("copied threads of key_1: %v, %v", th, err)
	}
	ex, err := db.Idempotency().BeginIdempotent(ctx, &domain.IdempotencyRecord{Key: "key_1\x00k1", BodyDigest: []byte("d")})
	if err != nil || ex == nil || ex.RunID != f.runs[0].ID {
		t.Errorf("copied idempotency record: %+v, %v", ex, err)
	}

	// The secret never reached the database in plaintext.
	var raw []byte
	if err := db.Pool().QueryRow(ctx, "SELECT record FROM plugins WHERE name = 'gmail'").Scan(&raw); err != nil || strings.Contains(string(raw), fixtureSecret) {
		t.Errorf("the plugin row holds the secret in plaintext (or could not be read: %v)", err)
	}

	// Checked clean, with the key and without it.
	keyEnv := map[string]string{store.SecretKeyEnv: hex.EncodeToString(f.key)}
	r = must(t, run(t, keyEnv, s.args("db", "check", "--dsn", dsn)...), ExitOK)
	contains(t, "db check on postgres", r.stdout, "ok\n", "runs:    4", "keys:    1", "schema version")
	must(t, run(t, none, s.args("db", "check", "--dsn", dsn)...), ExitOK)

	// A second copy finds the database not empty and changes nothing.
	r = must(t, run(t, none, s.args("db", "copy", "--from", "bbolt", "--to", "postgres", "--dsn", dsn)...), ExitFailed)
	contains(t, "second copy", r.stderr, "already holds records", "4 runs", "empty database")
	if st, _ := db.Stats(ctx); st.Runs != 4 {
		t.Errorf("after a refused copy the database has %d runs", st.Runs)
	}
}

func TestDBMigrateAndCheckPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := newSite(t)
	none := map[string]string{}
	r := must(t, run(t, none, s.args("db", "check", "--dsn", dsn)...), ExitFailed)
	contains(t, "check before migrate", r.stderr, "no toolhost schema", "toolhost db migrate")
	r = must(t, run(t, none, s.args("db", "migrate", "--dsn", dsn)...), ExitOK)
	contains(t, "migrate", r.stdout, "schema version", "migration(s) applied now")
	r = must(t, run(t, none, s.args("db", "migrate", "--dsn", dsn)...), ExitOK)
	contains(t, "migrate again", r.stdout, "(0 migration(s) applied now)")
	r = must(t, run(t, none, s.args("db", "check", "--dsn", dsn)...), ExitOK)
	contains(t, "check after migrate", r.stdout, "ok\n", "runs:    0")

	// A damaged record is named.
	db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Pool().Exec(context.Background(), `INSERT INTO runs (id, status, created_at, record)
VALUES ('run_01JBROKENBROKENBROKENBROKE', 'running', now(), '{"id":')`); err != nil {
		t.Fatal(err)
	}
	r = must(t, run(t, none, s.args("db", "check", "--dsn", dsn)...), ExitFailed)
	contains(t, "check of a damaged record", r.stdout, "problems found", "run_01JBROKENBROKENBROKENBROKE")
}

func TestDBPostgresBadInput(t *testing.T) {
	s := newSite(t)
	none := map[string]string{}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"db", "copy"}, ExitUsage, `--from bbolt --to postgres (got --from "" --to "")`},
		{[]string{"db", "copy", "--from", "mysql", "--to", "postgres", "--dsn", "postgres://h/db"}, ExitUsage, `got --from "mysql"`},
		{[]string{"db", "copy", "--from", "bbolt", "--to", "bbolt"}, ExitUsage, `--to "bbolt"`},
		{[]string{"db", "copy", "--from", "bbolt", "--to", "postgres"}, ExitUsage, "needs the database to copy into: --dsn URL"},
		{[]string{"db", "copy", "--from", "bbolt", "--to", "postgres", "--dsn", "postgres://u:pw@h/db"}, ExitFailed, "no database at"},
		{[]string{"db", "migrate", "--dsn", "postgres://u:hunter2@h:notaport/db"}, ExitUsage, "dsn cannot be parsed"},
		{[]string{"db", "check", "--dsn", "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2"}, ExitFailed, "database at 127.0.0.1:1 unreachable"},
		{[]string{"db", "check", "--dsn", "postgres://h/db", "extra"}, ExitUsage, "takes no arguments"},
	} {
		r := run(t, none, s.args(tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %s\nwant exit %d and %q", tc.args, r, tc.code, tc.want)
		}
		if strings.Contains(r.stdout+r.stderr, "hunter2") {
			t.Errorf("%v: the password is shown: %s", tc.args, r)
		}
	}
}
