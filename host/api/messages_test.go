package api_test

import (
	"strings"
	"testing"
)

// TestMethodNotAllowedCarriesAllow: a 405 says, in the Allow header and the
// message, which methods the path takes.
func TestMethodNotAllowedCarriesAllow(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/actions", "GET"},
		{"GET", "/v1/actions/testkit.noop/run", "POST"},
		{"POST", "/health", "GET"},
		{"PUT", "/v1/admin/plugins/refresh", "GET, POST"},
		{"PUT", "/v1/threads/thread_01NOPE", "DELETE, GET, POST"},
		{"PATCH", "/v1/admin/keys/ci", "DELETE"},
	} {
		r := e.do(c.method, c.path, "")
		if r.Status != 405 || r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, r.Status, r.Header.Get("Allow"), c.allow)
			continue
		}
		if msg := r.ErrorMessage(t); !strings.HasSuffix(msg, "; allowed: "+c.allow) {
			t.Errorf("%s %s: message %q", c.method, c.path, msg)
		}
	}
	if r := e.do("GET", "/no/such/route", ""); r.Status != 404 || r.Header.Get("Allow") != "" {
		t.Errorf("unknown route: %d Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

// TestBodyThatIsNotJSONSaysSo: a form or XML body is "not valid JSON", not
// null, an unnamed kind or garble.
func TestBodyThatIsNotJSONSaysSo(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, path, body string
		want             []string
	}{
		{"form on a run", "/v1/actions/testkit.echo/run", "name=A", []string{"request body is not valid JSON (it looks like a form, name=value); send a JSON object with Content-Type: application/json"}},
		{"form pairs", "/v1/actions/testkit.echo/run", "text=a&b=c", []string{"not valid JSON (it looks like a form"}},
		{"XML on a run", "/v1/actions/testkit.echo/run", "<input><text>A</text></input>", []string{"request body is not valid JSON (it looks like XML or HTML)"}},
		{"nonsense", "/v1/actions/testkit.echo/run", "nonsense", []string{"request body is not valid JSON; send a JSON object"}},
		{"null", "/v1/actions/testkit.echo/run", "null", []string{"request body must be a JSON object, not null"}},
		{"array", "/v1/actions/testkit.echo/run", "[1]", []string{"request body must be a JSON object, not an array"}},
		{"number", "/v1/actions/testkit.echo/run", "12", []string{"request body must be a JSON object, not a number"}},
		{"form on a thread", "/v1/threads", "metadata=x", []string{"not valid JSON (it looks like a form, name=value); send a JSON object such as {"}},
		{"XML on identify", "/v1/actions/identify", "<prompt/>", []string{"not valid JSON (it looks like XML or HTML)"}},
	} {
		r := e.do("POST", c.path, c.body)
		if r.Status != 400 {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
			continue
		}
		msg := r.ErrorMessage(t)
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", c.name, msg, w)
			}
		}
		if c.body != "null" && strings.Contains(msg, "null") {
			t.Errorf("%s: message %q calls it null", c.name, msg)
		}
	}
}
