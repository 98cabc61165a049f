package api_test

import (
	"strings"
	"testing"
)

// TestRunsAndThreadsBelongToTheirKey: a key lists, reads, follows,
// cancels and changes only its own runs and threads; another key's are
// not found. admin and audit see every key's; an empty scope list is
// refused.
func TestRunsAndThreadsBelongToTheirKey(t *testing.T) {
	e := newEnv(t)
	key := func(name, scopes string) string {
		r := e.do("POST", "/v1/admin/keys", `{"name":"`+name+`","scopes":`+scopes+`}`)
		e.wantStatus(r, 201)
		return r.Data(t)["key"].(string)
	}
	alice, bob, auditor := key("alice", `["read","run"]`), key("bob", `["read","run"]`), key("auditor", `["read","audit"]`)
	as := func(k string) []string { return []string{"x-api-key", k} }

	run := e.do("POST", "/v1/actions/testkit.echo/run", `{"text":"alice's"}`, as(alice)...)
	e.wantStatus(run, 200)
	runID := run.Header.Get("X-Run-Id")
	th := e.do("POST", "/v1/threads", `{"messages":[{"role":"user","content":"alice's thread"}]}`, as(alice)...)
	e.wantStatus(th, 200)
	threadID := th.Data(t)["id"].(string)

	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/runs/" + runID, ""},
		{"GET", "/v1/runs/" + runID + "/events", ""},
		{"POST", "/v1/runs/" + runID + "/cancel", ""},
		{"GET", "/v1/threads/" + threadID, ""},
		{"POST", "/v1/threads/" + threadID, `{"metadata":{"a":"b"}}`},
		{"GET", "/v1/threads/" + threadID + "/messages", ""},
		{"POST", "/v1/threads/" + threadID + "/messages", `{"role":"user","content":"hi"}`},
		{"POST", "/v1/threads/" + threadID + "/runs", `{}`},
		{"DELETE", "/v1/threads/" + threadID, ""},
	} {
		r := e.do(c.method, c.path, c.body, as(bob)...)
		if r.Status != 404 {
			t.Errorf("bob %s %s: %d %s, want 404", c.method, c.path, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "alice") {
			t.Errorf("bob %s %s shows alice's data: %s", c.method, c.path, r.Body)
		}
	}
	count := func(k, path string) int {
		return len(e.do("GET", path, "", as(k)...).JSON(t)["data"].(map[string]any)["list"].([]any))
	}
	if n := count(bob, "/v1/runs"); n != 0 {
		t.Errorf("bob lists %d runs, want 0", n)
	}
	if n := count(bob, "/v1/threads"); n != 0 {
		t.Errorf("bob lists %d threads, want 0", n)
	}
	if count(alice, "/v1/runs") != 1 || count(alice, "/v1/threads") != 1 {
		t.Error("alice does not list her own run and thread")
	}
	if count(auditor, "/v1/runs") != 1 || count(auditor, "/v1/threads") != 1 {
		t.Error("audit does not list every key's run and thread")
	}
	e.wantStatus(e.do("GET", "/v1/runs/"+runID, "", as(auditor)...), 200)
	e.wantStatus(e.do("GET", "/v1/runs/"+runID, ""), 200) // the bootstrap key holds admin
	e.wantStatus(e.do("GET", "/v1/threads/"+threadID, "", as(alice)...), 200)

	r := e.do("POST", "/v1/admin/keys", `{"name":"nothing","scopes":[]}`)
	if r.Status != 400 || !strings.Contains(r.ErrorMessage(t), "scopes") {
		t.Errorf("an empty scope list: %d %s", r.Status, r.Body)
	}
}
