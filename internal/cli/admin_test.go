package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/store"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines; it can
// note when each line was written.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []timedLine
	part  string
}

type timedLine struct {
	at   time.Time
	text string
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.part += string(p)
	for {
		i := strings.IndexByte(b.part, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, timedLine{now, b.part[:i]})
		b.part = b.part[i+1:]
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) timedLines() []timedLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]timedLine(nil), b.lines...)
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// run runs toolhost in-process with only the variables in vars set.
func run(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb syncBuffer
	code := Run(ctx, args, getenvFrom(vars), &out, &errb)
	return result{code, out.String(), errb.String()}
}

func must(t *testing.T, r result, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
	return r
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// site is a config file and data directory for one test.
type site struct {
	dir, cfg, data string
}

func newSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	s := &site{dir: dir, cfg: filepath.Join(dir, "plugins.hcl"), data: filepath.Join(dir, "data")}
	hcl := fmt.Sprintf("plugin \"testkit\" {\n  path = %q\n}\n", testkitBin)
	if err := os.WriteFile(s.cfg, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// local are the flags that point a command at the site.
func (s *site) local() []string { return []string{"--config", s.cfg, "--data-dir", s.data} }

func (s *site) args(args ...string) []string { return append(args, s.local()...) }

const adminKey = "test-admin-key"

// server is toolhost serve running in-process.
type server struct {
	url    string
	vars   map[string]string
	cancel context.CancelFunc
	done   chan int
	out    *syncBuffer
	once   sync.Once
}

func (s *site) start(t *testing.T) *server {
	t.Helper()
	addr := freeAddr(t)
	srv := &server{url: "http://" + addr, done: make(chan int, 1), out: &syncBuffer{},
		vars: map[string]string{"TOOLHOST_URL": "http://" + addr, "TOOLHOST_API_KEY": adminKey}}
	ctx, cancel := context.WithCancel(context.Background())
	srv.cancel = cancel
	go func() {
		srv.done <- Run(ctx, []string{"serve", "--config", s.cfg, "--data-dir", s.data, "--listen", addr},
			getenvFrom(map[string]string{"TOOLHOST_API_KEY": adminKey}), srv.out, srv.out)
	}()
	t.Cleanup(func() { srv.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(srv.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv
			}
		}
		select {
		case code := <-srv.done:
			t.Fatalf("serve exited with %d:\n%s", code, srv.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up:\n%s", srv.out)
		}
	}
}

func (srv *server) stop(t *testing.T) {
	srv.once.Do(func() {
		srv.cancel()
		select {
		case code := <-srv.done:
			if code != ExitOK {
				t.Errorf("serve exited with %d:\n%s", code, srv.out)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("serve did not stop:\n%s", srv.out)
		}
	})
}

// with returns the server's variables plus extra ones.
func (srv *server) with(kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range srv.vars {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// post sends a raw API request.
func (srv *server) post(t *testing.T, path, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.url+path, strings.NewReader(body))
	req.Header.Set("x-api-key", adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data map[string]any `json:"data"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &env); err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return env.Data
}

var keyRE = regexp.MustCompile(`th_[A-Za-z0-9_-]{20,}`)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKeysOnTheStore(t *testing.T) {
	s := newSite(t)
	none := map[string]string{}

	r := must(t, run(t, none, s.args("key", "create", "--name", "ci")...), ExitOK)
	contains(t, "key create", r.stdout, "not be shown again", `"ci"`)
	ciKey := keyRE.FindString(r.stdout)
	if ciKey == "" {
		t.Fatalf("no key printed:\n%s", r.stdout)
	}
	r = must(t, run(t, none, s.args("key", "create", "other")...), ExitOK) // name as an argument
	otherKey := keyRE.FindString(r.stdout)

	r = must(t, run(t, none, s.args("key", "create", "--name", "ci")...), ExitUsage)
	contains(t, "duplicate create", r.stderr, "already exists")
	must(t, run(t, none, s.args("key", "create")...), ExitUsage)
	r = must(t, run(t, none, s.args("key", "create", "--name", "bad name!")...), ExitUsage)
	contains(t, "bad name", r.stderr, "key name")
	r = must(t, run(t, none, s.args("key", "create", "--name", "reader", "--scopes", "read, run ,read")...), ExitOK)
	contains(t, "key create --scopes", r.stdout, "scopes read,run)")
	r = must(t, run(t, none, s.args("key", "create", "--name", "x", "--scopes", "read,write")...), ExitUsage)
	contains(t, "unknown scope", r.stderr, `unknown scope "write"`, "read, run, admin")
	r = must(t, run(t, none, s.args("key", "create", "--name", "x", "--scopes", " , ")...), ExitUsage)
	contains(t, "no scope", r.stderr, "--scopes needs at least one")

	r = must(t, run(t, none, s.args("key", "list")...), ExitOK)
	contains(t, "key list", r.stdout, "NAME", "PREFIX", "SCOPES", "LAST USED", "ci", "other", ciKey[:9], "never", "read,run,admin", "read,run ")

	r = must(t, run(t, none, s.args("key", "list", "--json")...), ExitOK)
	var keys []keyView
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil || len(keys) != 3 {
		t.Fatalf("key list --json: %v\n%s", err, r.stdout)
	}
	if keys[0].Name != "ci" || keys[0].Prefix != ciKey[:9] || keys[0].Key != "" || strings.Join(keys[0].Scopes, ",") != "read,run,admin" {
		t.Errorf("key list --json: %+v", keys[0])
	}
	if keys[2].Name != "reader" || strings.Join(keys[2].Scopes, ",") != "read,run" {
		t.Errorf("key list --json: %+v", keys[2])
	}

	r = must(t, run(t, none, s.args("key", "revoke", "ci")...), ExitOK)
	contains(t, "revoke", r.stdout, "Revoked")
	r = must(t, run(t, none, s.args("key", "revoke", "ci")...), ExitUsage)
	contains(t, "second revoke", r.stderr, `no key named "ci"`)
	must(t, run(t, none, s.args("key", "revoke")...), ExitUsage)

	db, err := store.Open(s.data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Keys().Authenticate(context.Background(), ciKey); !errors.Is(err, store.ErrUnauthorized) {
		t.Errorf("revoked key still authenticates: %v", err)
	}
	if k, err := db.Keys().Authenticate(context.Background(), otherKey); err != nil || k.Name != "other" {
		t.Errorf("the other key no longer authenticates: %v", err)
	}
}

func TestKeyDataDirFromConfigAndEnv(t *testing.T) {
	s := newSite(t)
	// data_dir in the config file, relative to it.
	hcl := fmt.Sprintf("data_dir = \"state\"\nplugin \"testkit\" {\n  path = %q\n}\n", testkitBin)
	if err := os.WriteFile(s.cfg, []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	must(t, run(t, nil, "key", "create", "--name", "a", "--config", s.cfg), ExitOK)
	if _, err := os.Stat(filepath.Join(s.dir, "state", store.FileName)); err != nil {
		t.Errorf("the key did not go to the config's data_dir: %v", err)
	}
	// TOOLHOST_DATA_DIR without a config file.
	envDir := filepath.Join(s.dir, "envdata")
	must(t, run(t, map[string]string{"TOOLHOST_DATA_DIR": envDir, "TOOLHOST_CONFIG": s.cfg}, "key", "create", "--name", "b"), ExitOK)
	r := must(t, run(t, map[string]string{"TOOLHOST_DATA_DIR": envDir}, "key", "list"), ExitOK)
	contains(t, "key list", r.stdout, "b")
	// A named config file that does not exist is an error.
	r = must(t, run(t, nil, "key", "list", "--config", filepath.Join(s.dir, "nope.hcl")), ExitUsage)
	contains(t, "missing config", r.stderr, "nope.hcl")
}

func TestDBCheckAndCompact(t *testing.T) {
	s := newSite(t)
	none := map[string]string{}
	r := must(t, run(t, none, s.args("db", "check")...), ExitFailed)
	contains(t, "check without a db", r.stderr, "no database")

	for i := range 20 {
		must(t, run(t, none, s.args("key", "create", "--name", fmt.Sprintf("k%d", i))...), ExitOK)
	}
	for i := range 15 {
		must(t, run(t, none, s.args("key", "revoke", fmt.Sprintf("k%d", i))...), ExitOK)
	}
	r = must(t, run(t, none, s.args("db", "check")...), ExitOK)
	contains(t, "db check", r.stdout, "ok\n", "keys:    5", store.FileName)

	r = must(t, run(t, none, s.args("db", "compact")...), ExitOK)
	contains(t, "db compact", r.stdout, "compacted", "before:", "after:", "bytes")
	entries, _ := os.ReadDir(s.data)
	for _, e := range entries {
		if strings.Contains(e.Name(), "compact") {
			t.Errorf("compact left %s behind", e.Name())
		}
	}
	r = must(t, run(t, none, s.args("key", "list")...), ExitOK)
	contains(t, "keys after compact", r.stdout, "k15", "k19")
	must(t, run(t, none, s.args("db", "check")...), ExitOK)

	// Break the key digest index behind the store's back.
	bdb, err := bbolt.Open(filepath.Join(s.data, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte("key_digests")).Cursor()
		k, _ := c.First()
		return c.Bucket().Delete(k)
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	r = must(t, run(t, none, s.args("db", "check")...), ExitFailed)
	contains(t, "db check of a broken db", r.stdout, "problems found", "missing from the digest index")
}

func TestPluginsWithoutServer(t *testing.T) {
	s := newSite(t)
	down := map[string]string{"TOOLHOST_URL": "http://" + freeAddr(t)}
	pluginDir := filepath.Join(s.data, "plugins")

	r := must(t, run(t, nil, "plugin", "describe", testkitBin), ExitOK)
	var m struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Actions []struct {
			Key string `json:"key"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || m.Name != "testkit" || len(m.Actions) == 0 {
		t.Fatalf("describe: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stdout, "\n  \"name\"") {
		t.Errorf("describe output is not indented:\n%s", r.stdout)
	}

	junk := filepath.Join(s.dir, "junk")
	if err := os.WriteFile(junk, []byte("this is not a plugin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = must(t, run(t, nil, "plugin", "describe", junk), ExitFailed)
	contains(t, "describe junk", r.stderr, "not a working toolhost plugin")
	must(t, run(t, nil, "plugin", "describe", filepath.Join(s.dir, "missing")), ExitUsage)

	r = must(t, run(t, down, s.args("plugin", "install", junk, "--start-timeout", "3s")...), ExitFailed)
	contains(t, "install junk", r.stderr, "not a working toolhost plugin", "nothing was installed")
	if entries, _ := os.ReadDir(pluginDir); len(entries) != 0 {
		t.Errorf("a failed install left %v in the plugin directory", entries)
	}
	r = must(t, run(t, down, s.args("plugin", "install", testkitBin)...), ExitUsage)
	contains(t, "install over a declared plugin", r.stderr, "declares plugin \"testkit\"")

	r = must(t, run(t, down, s.args("plugin", "install", testkitBin, "--name", "kit2")...), ExitOK)
	sum := sha256File(t, testkitBin)
	contains(t, "install", r.stdout, "Installed plugin kit2 0.1.0", sum, "Recorded")
	entries, _ := os.ReadDir(pluginDir)
	if len(entries) != 1 || entries[0].Name() != "kit2" {
		t.Fatalf("plugin dir holds %v, want just kit2", entries)
	}
	if st, _ := os.Stat(filepath.Join(pluginDir, "kit2")); st.Mode().Perm() != 0o755 {
		t.Errorf("installed mode %v", st.Mode())
	}
	r = must(t, run(t, down, s.args("plugin", "install", testkitBin, "--name", "kit2")...), ExitOK)
	contains(t, "reinstall", r.stdout, "Updated plugin kit2")

	r = must(t, run(t, down, s.args("plugin", "list")...), ExitOK)
	contains(t, "plugin list", r.stdout, "NAME", "SHA256", "testkit", "kit2", "not running", sum[:16])
	contains(t, "plugin list stderr", r.stderr, "no server answers at "+down["TOOLHOST_URL"])
	r = must(t, run(t, down, s.args("plugin", "list", "--json")...), ExitOK)
	var rows []pluginRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("plugin list --json: %v\n%s", err, r.stdout)
	}
	if rows[0].Name != "kit2" || rows[0].SHA256 != sum || rows[0].Actions == nil || *rows[0].Actions != len(m.Actions) || rows[0].Version != "0.1.0" {
		t.Errorf("kit2 row: %+v", rows[0])
	}
	if rows[1].Name != "testkit" || rows[1].SHA256 != sum || rows[1].Status != "not running" || rows[1].Actions != nil {
		t.Errorf("testkit row: %+v", rows[1])
	}

	r = must(t, run(t, down, s.args("plugin", "remove", "nosuch")...), ExitUsage)
	contains(t, "remove unknown", r.stderr, `plugin "nosuch" is not installed`, "installed: kit2")
	r = must(t, run(t, down, s.args("plugin", "remove", "testkit")...), ExitUsage)
	contains(t, "remove declared", r.stderr, "declared in")
	must(t, run(t, down, s.args("plugin", "remove", "../etc")...), ExitUsage)
	// A block that configures the installed file must go first.
	orig, _ := os.ReadFile(s.cfg)
	os.WriteFile(s.cfg, append(append([]byte(nil), orig...), "plugin \"kit2\" {\n  config = { greeting = \"hello\" }\n}\n"...), 0o644)
	r = must(t, run(t, down, s.args("plugin", "remove", "kit2")...), ExitUsage)
	contains(t, "remove configured", r.stderr, "remove that block first")
	os.WriteFile(s.cfg, orig, 0o644)
	r = must(t, run(t, down, s.args("plugin", "remove", "kit2")...), ExitOK)
	contains(t, "remove", r.stdout, "Removed", "install record")
	if entries, _ := os.ReadDir(pluginDir); len(entries) != 0 {
		t.Errorf("plugin dir after remove: %v", entries)
	}
	db, err := store.Open(s.data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := db.Plugins().ListPlugins(context.Background())
	db.Close()
	if len(recs) != 0 {
		t.Errorf("records after remove: %+v", recs)
	}
}

func TestServerDown(t *testing.T) {
	url := "http://" + freeAddr(t)
	vars := map[string]string{"TOOLHOST_URL": url, "TOOLHOST_API_KEY": adminKey}
	for _, args := range [][]string{
		{"action", "list"},
		{"action", "run", "testkit.echo", "--input", `{"text":"hi"}`},
		{"runs", "list"},
		{"runs", "show", "run_x"},
		{"runs", "tail", "run_x"},
		{"runs", "tail"},
	} {
		r := must(t, run(t, vars, args...), ExitUnreachable)
		contains(t, strings.Join(args, " "), r.stderr, url, "toolhost serve", "TOOLHOST_URL")
	}
	// Bad input is refused before any request.
	r := must(t, run(t, vars, "action", "run", "testkit.echo", "--input", `{"text":`), ExitUsage)
	contains(t, "invalid --input", r.stderr, "--input is not valid JSON")
	r = must(t, run(t, vars, "action", "run", "testkit.echo", "--input", `[1]`), ExitUsage)
	contains(t, "array --input", r.stderr, "--input must be a JSON object")
	r = must(t, run(t, vars, "action", "run", "testkit.echo", "--input", "@"+filepath.Join(t.TempDir(), "none.json")), ExitUsage)
	contains(t, "missing @file", r.stderr, "none.json")
	must(t, run(t, vars, "action", "run"), ExitUsage)
	must(t, run(t, vars, "runs", "list", "--limit", "0"), ExitUsage)
	must(t, run(t, vars, "runs", "nope"), ExitUsage)
}

func TestWithServer(t *testing.T) {
	s := newSite(t)
	// A plugin installed (and pinned) before the server starts.
	must(t, run(t, nil, s.args("plugin", "install", testkitBin, "--name", "kit2")...), ExitOK)
	srv := s.start(t)
	vars := srv.vars
	sum := sha256File(t, testkitBin)

	t.Run("action list", func(t *testing.T) {
		r := must(t, run(t, vars, "action", "list"), ExitOK)
		contains(t, "action list", r.stdout, "ALIAS", "ID", "TYPE", "TITLE", "testkit.echo", "kit2.echo", "create", "Echo", actionID("testkit", "echo"))
		r = must(t, run(t, vars, "action", "list", "--json"), ExitOK)
		var list []actionInfo
		if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) < 2 {
			t.Fatalf("action list --json: %v\n%s", err, r.stdout)
		}
	})

	var echoRun string
	t.Run("action run", func(t *testing.T) {
		r := must(t, run(t, vars, "action", "run", "testkit.echo", "--input", `{"text":"hi"}`), ExitOK)
		var out map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["text"] != "hi" {
			t.Fatalf("output: %v\n%s", err, r.stdout)
		}
		contains(t, "indented output", r.stdout, "{\n  \"text\": \"hi\"\n}")

		// By id, flags first, input from a file.
		file := filepath.Join(t.TempDir(), "in.json")
		os.WriteFile(file, []byte(`{"text":"from a file"}`), 0o644)
		r = must(t, run(t, vars, "action", "run", "--input", "@"+file, actionID("testkit", "echo")), ExitOK)
		contains(t, "@file", r.stdout, "from a file")

		// From stdin.
		stdin = strings.NewReader(`{"text":"from stdin"}`)
		defer func() { stdin = os.Stdin }()
		r = must(t, run(t, vars, "action", "run", "kit2.echo", "--input", "-"), ExitOK)
		contains(t, "stdin", r.stdout, "from stdin")

		var page struct {
			List []runInfo `json:"list"`
		}
		c := newClient(&env{ctx: context.Background(), getenv: getenvFrom(vars)})
		if err := c.call(http.MethodGet, "/v1/runs?limit=5&action_id=testkit.echo", nil, &page); err != nil || len(page.List) == 0 {
			t.Fatalf("runs: %v", err)
		}
		echoRun = page.List[len(page.List)-1].ID
	})

	t.Run("action run errors", func(t *testing.T) {
		r := must(t, run(t, vars, "action", "run", "testkit.echo", "--input", `{"text":5}`), ExitUsage)
		contains(t, "invalid input", r.stderr, "invalid input", "\n  text: ")
		if strings.Count(r.stderr, "text:") != 1 {
			t.Errorf("the field is named more than once:\n%s", r.stderr)
		}
		r = must(t, run(t, vars, "action", "run", "testkit.fail"), ExitFailed)
		contains(t, "failing action", r.stderr, "[Action execution error]", "the thing failed", "toolhost runs show run_")
		r = must(t, run(t, vars, "action", "run", "testkit.nosuch"), ExitUsage)
		contains(t, "unknown action", r.stderr, "not found")
		r = must(t, run(t, srv.with("TOOLHOST_API_KEY", "wrong"), "action", "list"), ExitAuth)
		contains(t, "wrong key", r.stderr, "API key is not valid.", "TOOLHOST_API_KEY")
		r = must(t, run(t, srv.with("TOOLHOST_API_KEY", ""), "action", "list"), ExitAuth)
		contains(t, "no key", r.stderr, "API key is not provided", "TOOLHOST_API_KEY is not set")
	})

	t.Run("key fallback to HTTP", func(t *testing.T) {
		r := must(t, run(t, vars, s.args("key", "create", "--name", "viahttp")...), ExitOK)
		contains(t, "create stderr", r.stderr, "in use", "admin API at "+srv.url)
		contains(t, "create", r.stdout, "not be shown again")
		key := keyRE.FindString(r.stdout)
		must(t, run(t, srv.with("TOOLHOST_API_KEY", key), "action", "list"), ExitOK)

		r = must(t, run(t, vars, s.args("key", "list")...), ExitOK)
		contains(t, "list over HTTP", r.stdout, "viahttp", key[:9])
		r = must(t, run(t, vars, s.args("key", "create", "--name", "viahttp")...), ExitUsage)
		contains(t, "duplicate over HTTP", r.stderr, "already exists")

		must(t, run(t, vars, s.args("key", "revoke", "viahttp")...), ExitOK)
		must(t, run(t, srv.with("TOOLHOST_API_KEY", key), "action", "list"), ExitAuth)
		must(t, run(t, vars, s.args("key", "revoke", "viahttp")...), ExitUsage)

		// A read-only key made over HTTP lists actions but may not run one.
		r = must(t, run(t, vars, s.args("key", "create", "--name", "readonly", "--scopes", "read")...), ExitOK)
		contains(t, "create read-only", r.stdout, "scopes read)")
		ro := srv.with("TOOLHOST_API_KEY", keyRE.FindString(r.stdout))
		must(t, run(t, ro, "action", "list"), ExitOK)
		r = must(t, run(t, ro, "action", "run", "testkit.noop"), ExitAuth)
		contains(t, "read-only run", r.stderr, `lacks the "run" scope`, "--scopes")
		r = must(t, run(t, vars, s.args("key", "create", "--name", "x", "--scopes", "read,sudo")...), ExitUsage)
		contains(t, "unknown scope over HTTP", r.stderr, `unknown scope "sudo"`)
	})

	t.Run("runs list and show", func(t *testing.T) {
		r := must(t, run(t, vars, "runs", "list"), ExitOK)
		contains(t, "runs list", r.stdout, "ID", "ACTION", "STATUS", "CREATED", "DURATION", "ERROR", echoRun, "testkit.echo", "succeeded", "action_failed")
		r = must(t, run(t, vars, "runs", "list", "--action", "testkit.fail", "--status", "failed", "--limit", "1"), ExitOK)
		contains(t, "runs list filtered", r.stdout, "testkit.fail", "action_failed")
		if strings.Contains(r.stdout, "testkit.echo") {
			t.Errorf("filter let other runs through:\n%s", r.stdout)
		}
		r = must(t, run(t, vars, "runs", "list", "--status", "bogus"), ExitUsage)
		contains(t, "bad status", r.stderr, "status")
		r = must(t, run(t, vars, "runs", "list", "--json", "--limit", "2"), ExitOK)
		var page struct {
			List    []map[string]any `json:"list"`
			HasMore bool             `json:"has_more"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || len(page.List) != 2 || !page.HasMore {
			t.Fatalf("runs list --json: %v\n%s", err, r.stdout)
		}

		r = must(t, run(t, vars, "runs", "show", echoRun), ExitOK)
		contains(t, "runs show", r.stdout, "id:", echoRun, "status:", "succeeded", "testkit.echo", "duration:", "input:", "output:", `"hi"`, "key:", "bootstrap")
		r = must(t, run(t, vars, "runs", "show", "--json", echoRun), ExitOK)
		var one map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &one); err != nil || one["id"] != echoRun {
			t.Fatalf("runs show --json: %v\n%s", err, r.stdout)
		}
		r = must(t, run(t, vars, "runs", "show", "run_nosuch"), ExitUsage)
		contains(t, "unknown run", r.stderr, "not found")
	})

	t.Run("runs tail finished", func(t *testing.T) {
		data := srv.post(t, "/v1/actions/testkit.chatty/run", `{"input":{"lines":2}}`)
		id, _ := data["run_id"].(string)
		r := must(t, run(t, vars, "runs", "tail", id), ExitOK)
		contains(t, "tail", r.stdout, "run.created", "run.running", "run.log  info  line 1  i=1", "run.log  info  line 2", "run.progress", "run.output", "run.succeeded in ")
		contains(t, "tail stderr", r.stderr, "following "+id)
		timeRE := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d\d\d run\.log  info  line 1`)
		if !timeRE.MatchString(r.stdout) {
			t.Errorf("log line format:\n%s", r.stdout)
		}
		r = must(t, run(t, vars, "runs", "show", id), ExitOK)
		contains(t, "show logs", r.stdout, "logs:", "info  line 1", "line 2")

		fid := srv.post(t, "/v1/actions/testkit.fail/run?blocking=false", `{}`)["run_id"].(string)
		r = must(t, run(t, vars, "runs", "tail", fid), ExitOK)
		contains(t, "tail of a failure", r.stdout, "run.failed in ", "action_failed: the thing failed")
	})

	t.Run("runs tail live", func(t *testing.T) {
		data := srv.post(t, "/v1/actions/testkit.chatty/run?blocking=false", `{"input":{"lines":3,"delayMs":100}}`)
		id, _ := data["run_id"].(string)
		var out, errb syncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := Run(ctx, []string{"runs", "tail", id}, getenvFrom(vars), &out, &errb)
		if code != ExitOK {
			t.Fatalf("tail: exit %d\n%s\n%s", code, out.String(), errb.String())
		}
		var logs []timedLine
		for _, l := range out.timedLines() {
			if strings.Contains(l.text, "run.log") {
				logs = append(logs, l)
			}
		}
		if len(logs) != 3 {
			t.Fatalf("want 3 log lines:\n%s", out.String())
		}
		contains(t, "live tail", out.String(), "line 1", "line 2", "line 3", "run.succeeded")
		if gap := logs[2].at.Sub(logs[0].at); gap < 120*time.Millisecond {
			t.Errorf("the log lines came %v apart: printed at the end, not live", gap)
		}
	})

	t.Run("runs tail resumes", func(t *testing.T) {
		proxy := startCutProxy(t, strings.TrimPrefix(srv.url, "http://"), "event: run.log")
		data := srv.post(t, "/v1/actions/testkit.chatty/run?blocking=false", `{"input":{"lines":4,"delayMs":100}}`)
		id, _ := data["run_id"].(string)
		r := must(t, run(t, srv.with("TOOLHOST_URL", proxy), "runs", "tail", id), ExitOK)
		contains(t, "resume stderr", r.stderr, "event stream interrupted", "resuming after event")
		for _, want := range []string{"line 1 ", "line 2 ", "line 3 ", "line 4 ", "run.running", "run.succeeded"} {
			if n := strings.Count(r.stdout, want); n != 1 {
				t.Errorf("%q printed %d times:\n%s", want, n, r.stdout)
			}
		}
	})

	t.Run("runs tail all", func(t *testing.T) {
		saved := pollInterval
		pollInterval = 100 * time.Millisecond
		defer func() { pollInterval = saved }()
		var out, errb syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() { done <- Run(ctx, []string{"runs", "tail"}, getenvFrom(vars), &out, &errb) }()
		eventually(t, "tail to start", func() bool { return strings.Contains(errb.String(), "following runs") })
		data := srv.post(t, "/v1/actions/testkit.chatty/run?blocking=false", `{"input":{"lines":3,"delayMs":150}}`)
		id, _ := data["run_id"].(string)
		eventually(t, "the run to show up as succeeded", func() bool {
			return strings.Contains(out.String(), id) && strings.Contains(out.String(), "succeeded")
		})
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("tail exit %d: %s", code, errb.String())
		}
		contains(t, "tail all", out.String(), "testkit.chatty", "-> succeeded in ")
		if strings.Contains(out.String(), echoRun) {
			t.Errorf("old runs were printed:\n%s", out.String())
		}
	})

	t.Run("plugin list", func(t *testing.T) {
		r := must(t, run(t, vars, s.args("plugin", "list")...), ExitOK)
		contains(t, "plugin list", r.stdout, "testkit", "kit2", "ready", "16", sum[:16])
		r = must(t, run(t, vars, s.args("plugin", "list", "--json")...), ExitOK)
		var rows []pluginRow
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 2 {
			t.Fatalf("plugin list --json: %v\n%s", err, r.stdout)
		}
		for _, row := range rows {
			if row.SHA256 != sum || row.Actions == nil || *row.Actions != 16 || row.Version != "0.1.0" || row.ID != core.PluginID(row.Name) {
				t.Errorf("row %+v", row)
			}
		}
	})

	t.Run("plugin install and remove while running", func(t *testing.T) {
		r := must(t, run(t, vars, s.args("plugin", "install", testkitBin, "--name", "kit3")...), ExitOK)
		contains(t, "install stderr", r.stderr, "in use", "asking the server at "+srv.url)
		contains(t, "install", r.stdout, "Installed plugin kit3", "not recorded", `sha256 = "`+sum+`"`, "Server: plugin kit3 is")
		eventually(t, "kit3's actions", func() bool {
			return strings.Contains(run(t, vars, "action", "list").stdout, "kit3.echo")
		})
		r = must(t, run(t, vars, "action", "run", "kit3.echo", "--input", `{"text":"three"}`), ExitOK)
		contains(t, "kit3 echo", r.stdout, "three")

		r = must(t, run(t, vars, s.args("plugin", "remove", "kit3")...), ExitOK)
		contains(t, "remove", r.stdout, "Removed", "unloaded plugin kit3")
		if _, err := os.Stat(filepath.Join(s.data, "plugins", "kit3")); !os.IsNotExist(err) {
			t.Errorf("kit3 still installed: %v", err)
		}
		eventually(t, "kit3 to go", func() bool {
			r := run(t, vars, "action", "list")
			return r.code == ExitOK && !strings.Contains(r.stdout, "kit3.echo")
		})
		r = must(t, run(t, vars, s.args("plugin", "remove", "kit3")...), ExitUsage)
		contains(t, "remove again", r.stderr, "not installed")
	})

	t.Run("db refused while running", func(t *testing.T) {
		r := must(t, run(t, nil, s.args("db", "compact")...), ExitFailed)
		contains(t, "compact while running", r.stderr, "in use", "stop `toolhost serve` first")
		r = must(t, run(t, nil, s.args("db", "check")...), ExitFailed)
		contains(t, "check while running", r.stderr, "stop `toolhost serve` first")
	})

	srv.stop(t)

	t.Run("after stop", func(t *testing.T) {
		r := must(t, run(t, vars, "action", "list"), ExitUnreachable)
		contains(t, "server down", r.stderr, srv.url, "toolhost serve")
		r = must(t, run(t, nil, s.args("db", "check")...), ExitOK)
		contains(t, "db check", r.stdout, "ok", "plugins: 1")
		r = must(t, run(t, nil, s.args("db", "compact")...), ExitOK)
		contains(t, "db compact", r.stdout, "before:", "after:")
		must(t, run(t, nil, s.args("db", "check")...), ExitOK)
		r = must(t, run(t, vars, s.args("plugin", "list")...), ExitOK)
		contains(t, "plugin list after stop", r.stdout, "kit2", "not running")
	})
}

// actionID is the API id of plugin's action key.
func actionID(plugin, key string) string {
	sum := sha256.Sum256([]byte(plugin + ":" + key))
	return "CA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}

// startCutProxy relays TCP to target and, the first time the answer
// carries marker, cuts that connection after the event holding it.
func startCutProxy(t *testing.T, target, marker string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var once sync.Once
	relay := func(c net.Conn) {
		defer c.Close()
		s, err := net.Dial("tcp", target)
		if err != nil {
			return
		}
		defer s.Close()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		buf := make([]byte, 64<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				chunk := buf[:n]
				cut := false
				if i := bytes.Index(chunk, []byte(marker)); i >= 0 {
					once.Do(func() {
						cut = true
						if j := bytes.Index(chunk[i:], []byte("\n\n")); j >= 0 {
							chunk = chunk[:i+j+2]
						}
					})
				}
				if _, werr := c.Write(chunk); werr != nil || cut {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestOneArgumentCommands: commands that act on one thing refuse none or
// two with a usage error saying what they need.
func TestOneArgumentCommands(t *testing.T) {
	for _, cmd := range [][]string{
		{"action", "run"}, {"key", "revoke"}, {"plugin", "describe"}, {"plugin", "install"},
		{"plugin", "remove"}, {"runs", "show"}, {"thread", "show"},
	} {
		for _, extra := range [][]string{nil, {"a", "b"}} {
			r := must(t, run(t, nil, append(append([]string(nil), cmd...), extra...)...), ExitUsage)
			contains(t, strings.Join(cmd, " "), r.stderr, strings.Join(cmd, " ")+" needs exactly one ")
		}
	}
}

// TestNoArgumentCommands: commands that take flags only refuse a
// positional argument with a usage error.
func TestNoArgumentCommands(t *testing.T) {
	for _, cmd := range [][]string{
		{"action", "list"}, {"key", "list"}, {"plugin", "list"}, {"runs", "list"}, {"db", "check"}, {"db", "compact"},
	} {
		r := must(t, run(t, nil, append(append([]string(nil), cmd...), "extra")...), ExitUsage)
		contains(t, strings.Join(cmd, " "), r.stderr, strings.Join(cmd, " ")+` takes no arguments (got ["extra"])`)
	}
}
