package app_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
)

// consoleClient is a browser-like client: a cookie jar, no redirects
// followed, and the Origin a browser sends.
type consoleClient struct {
	t    *testing.T
	h    *host
	http *http.Client
}

func newConsoleClient(t *testing.T, h *host) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, h: h, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *consoleClient) send(method, path, contentType, body string, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.h.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Origin", c.h.URL)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res, b.String()
}

func (c *consoleClient) signIn(key string) *http.Response {
	c.t.Helper()
	res, _ := c.send("POST", "/console/login", "application/x-www-form-urlencoded", url.Values{"key": {key}}.Encode(), nil)
	return res
}

var csrfRe = regexp.MustCompile(`name="csrf-token" content="([0-9a-f]+)"`)

func (c *consoleClient) csrf() string {
	c.t.Helper()
	res, body := c.send("GET", "/console/", "", "", nil)
	m := csrfRe.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		c.t.Fatalf("console page: %d, no CSRF token\n%s", res.StatusCode, body)
	}
	return m[1]
}

func TestConsoleSignInCookieAndSignOut(t *testing.T) {
	h := newHost(t, nil)
	c := newConsoleClient(t, h)

	// Not signed in: the page sends to the form, the API refuses.
	if res, _ := c.send("GET", "/console/", "", "", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/login" {
		t.Fatalf("page without a session: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := c.send("GET", "/console/api/v1/plugins", "", "", nil); res.StatusCode != 401 {
		t.Errorf("API without a session: %d; want 401", res.StatusCode)
	}
	if res, body := c.send("GET", "/console/login", "", "", nil); res.StatusCode != 200 || !strings.Contains(body, `<label for="key">`) {
		t.Errorf("login form: %d\n%s", res.StatusCode, body)
	}

	// Wrong and empty keys are refused with the form again, no cookie.
	for _, k := range []string{"th_wrong", "", strings.Repeat("x", 20000)} {
		res := c.signIn(k)
		if res.StatusCode < 400 || len(res.Cookies()) > 0 {
			t.Errorf("sign in with %.10q: %d, cookies %v; want refused", k, res.StatusCode, res.Cookies())
		}
	}

	res := c.signIn(testKey)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/" {
		t.Fatalf("sign in: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, x := range res.Cookies() {
		if x.Name == "toolhost_console" {
			ck = x
		}
	}
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge <= 0 || ck.Expires.IsZero() || ck.Path != "/console" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, an expiry, Path=/console", ck)
	}
	if ck.Secure {
		t.Errorf("cookie is Secure over plain HTTP (the browser would drop it)")
	}
	if strings.Contains(ck.Value, testKey) {
		t.Error("the cookie carries the API key")
	}
	if res, body := c.send("GET", "/console/api/v1/plugins", "", "", nil); res.StatusCode != 200 || !strings.Contains(body, "testkit") {
		t.Errorf("API with a session: %d %s", res.StatusCode, body)
	}
	token := c.csrf()

	// Sign out needs the token; then the session is gone.
	if res, _ := c.send("POST", "/console/logout", "application/x-www-form-urlencoded", "csrf=nope", nil); res.StatusCode != 403 {
		t.Errorf("sign out without the token: %d; want 403", res.StatusCode)
	}
	if res, _ := c.send("POST", "/console/logout", "application/x-www-form-urlencoded", "csrf="+token, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign out: %d", res.StatusCode)
	}
	if res, _ := c.send("GET", "/console/api/v1/plugins", "", "", nil); res.StatusCode != 401 {
		t.Errorf("API after sign out: %d; want 401", res.StatusCode)
	}
}

func TestConsoleCSRFAndOrigin(t *testing.T) {
	h := newHost(t, nil)
	c := newConsoleClient(t, h)
	c.signIn(testKey)
	token := c.csrf()
	run := "/console/api/v1/actions/testkit.echo/run"
	if res, body := c.send("POST", run, "application/json", `{"text":"x"}`, nil); res.StatusCode != 403 || !strings.Contains(body, "CSRF") {
		t.Errorf("POST without the token: %d %s; want 403", res.StatusCode, body)
	}
	if res, _ := c.send("POST", run, "application/json", `{"text":"x"}`, map[string]string{"X-CSRF-Token": token + "0"}); res.StatusCode != 403 {
		t.Errorf("POST with a wrong token: %d; want 403", res.StatusCode)
	}
	if res, _ := c.send("POST", run, "application/json", `{"text":"x"}`, map[string]string{"X-CSRF-Token": token, "Origin": "https://evil.example"}); res.StatusCode != 403 {
		t.Errorf("cross-origin POST with the token: %d; want 403", res.StatusCode)
	}
	if res, _ := c.send("POST", "/console/login", "application/x-www-form-urlencoded", "key="+testKey, map[string]string{"Origin": "https://evil.example"}); res.StatusCode != 403 {
		t.Errorf("cross-origin sign in: %d; want 403 (login CSRF)", res.StatusCode)
	}
	res, body := c.send("POST", run, "application/json", `{"text":"hello"}`, map[string]string{"X-CSRF-Token": token})
	if res.StatusCode != 200 || !strings.Contains(body, `"text":"hello"`) {
		t.Fatalf("POST with the token: %d %s", res.StatusCode, body)
	}
	// The run went through the pipeline under the session's key.
	runs, _, err := h.app.Runner.ListRuns(context.Background(), domain.Caller{Scopes: domain.Scopes}, domain.RunFilter{}, domain.Page{Limit: 10})
	if err != nil || len(runs) != 1 || runs[0].Source == "" {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if runs[0].KeyName != "TOOLHOST_API_KEY" && runs[0].KeyName == "" {
		t.Errorf("run key name %q", runs[0].KeyName)
	}
	// Paths outside /v1 are not forwarded.
	if res, _ := c.send("GET", "/console/api/health", "", "", nil); res.StatusCode != 404 {
		t.Errorf("GET /console/api/health: %d; want 404", res.StatusCode)
	}
}

func TestConsoleScopes(t *testing.T) {
	h := newHost(t, nil)
	reader, _, err := h.app.DB.Keys().CreateKey(context.Background(), "viewer", domain.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsoleClient(t, h)
	c.signIn(reader)
	token := c.csrf()
	if res, _ := c.send("GET", "/console/api/v1/runs", "", "", nil); res.StatusCode != 200 {
		t.Errorf("read key lists runs: %d", res.StatusCode)
	}
	if res, body := c.send("POST", "/console/api/v1/actions/testkit.echo/run", "application/json", `{"text":"x"}`, map[string]string{"X-CSRF-Token": token}); res.StatusCode != 403 || !strings.Contains(body, "run") {
		t.Errorf("read key runs an action: %d %s; want 403", res.StatusCode, body)
	}
	if res, _ := c.send("GET", "/console/api/v1/admin/keys", "", "", nil); res.StatusCode != 403 {
		t.Errorf("read key lists keys: %d; want 403", res.StatusCode)
	}
	// Revoking the key ends what the session can do.
	admin := newConsoleClient(t, h)
	admin.signIn(testKey)
	at := admin.csrf()
	if res, body := admin.send("DELETE", "/console/api/v1/admin/keys/viewer", "", "", map[string]string{"X-CSRF-Token": at}); res.StatusCode >= 300 {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	if res, _ := c.send("GET", "/console/api/v1/runs", "", "", nil); res.StatusCode != 401 {
		t.Errorf("revoked key's session: %d; want 401", res.StatusCode)
	}
}

func TestConsoleStaticAndHeaders(t *testing.T) {
	h := newHost(t, nil)
	c := newConsoleClient(t, h)
	res, body := c.send("GET", "/console/static/app.js", "", "", nil)
	if res.StatusCode != 200 || !strings.Contains(body, "EventSource") {
		t.Errorf("app.js: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if res, _ := c.send("GET", "/console/static/../../metrics", "", "", nil); res.StatusCode == 200 {
		t.Error("path traversal out of the static files")
	}
	if res, _ := c.send("GET", "/console/nope", "", "", nil); res.StatusCode != 404 {
		t.Errorf("/console/nope: %d", res.StatusCode)
	}
	if res, _ := c.send("DELETE", "/console/", "", "", nil); res.StatusCode != 405 {
		t.Errorf("DELETE /console/: %d", res.StatusCode)
	}
}
