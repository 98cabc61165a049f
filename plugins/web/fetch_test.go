package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

// allowLoopback is the configuration the tests use to reach their own
// loopback servers.
var allowLoopback = sdk.Config{keyAllowPrivate: "true"}

const articleHTML = `<!doctype html>
<html><head><title>  A  small
 page </title><script>alert("no")</script><style>p{}</style></head>
<body><nav><a href="/home">Home</a></nav>
<h1>Hello, reader</h1>
<p>This is <b>bold</b> and a <a href="/docs/intro">link</a>.</p>
<ul><li>one</li><li>two</li></ul>
<pre>  keep   this
  spacing</pre>
</body></html>`

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, cfg sdk.Config, input map[string]any) sdktest.Result {
	t.Helper()
	return sdktest.New(t, webPlugin, cfg).Run(context.Background(), "fetch", input)
}

func mustFetch(t *testing.T, cfg sdk.Config, input map[string]any) FetchOutput {
	t.Helper()
	var out FetchOutput
	run(t, cfg, input).Decode(t, &out)
	return out
}

func wantFailure(t *testing.T, res sdktest.Result, code, field string, parts ...string) {
	t.Helper()
	if res.Err == nil {
		t.Fatalf("run succeeded with %s; want %s", res.Output, code)
	}
	if res.Err.Code != code || res.Err.Field != field {
		t.Errorf("code %q field %q, want %q %q (%s)", res.Err.Code, res.Err.Field, code, field, res.Err.Message)
	}
	for _, p := range parts {
		if !strings.Contains(res.Err.Message, p) {
			t.Errorf("message %q does not contain %q", res.Err.Message, p)
		}
	}
}

func TestFetchHTMLAsMarkdown(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != defaultUserAgent {
			t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, articleHTML)
	})
	out := mustFetch(t, allowLoopback, map[string]any{"url": srv.URL + "/article#section"})
	if out.Title != "A small page" || out.URL != srv.URL+"/article" || out.ContentType != "text/html" || out.StatusCode != 200 {
		t.Errorf("title %q url %q type %q status %d", out.Title, out.URL, out.ContentType, out.StatusCode)
	}
	for _, want := range []string{"# Hello, reader", "**bold**", "[link](" + srv.URL + "/docs/intro)", "- one", "- two", "keep   this"} {
		if !strings.Contains(out.Content, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out.Content)
		}
	}
	for _, unwanted := range []string{"alert", "Home", "p{}", "A  small"} {
		if strings.Contains(out.Content, unwanted) {
			t.Errorf("markdown has %q:\n%s", unwanted, out.Content)
		}
	}
	if out.Bytes != int64(len(articleHTML)) || out.Truncated {
		t.Errorf("bytes %d truncated %v", out.Bytes, out.Truncated)
	}
}

func TestFetchHTMLAsText(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, articleHTML)
	})
	out := mustFetch(t, allowLoopback, map[string]any{"url": srv.URL, "format": "text"})
	want := "Hello, reader\n\nThis is bold and a link.\n\n- one\n\n- two\n\n  keep   this\n  spacing"
	if out.Content != want {
		t.Errorf("text:\n%q\nwant\n%q", out.Content, want)
	}
}

func TestFetchDecodesDeclaredCharset(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<title>Caf\xe9</title><p>cr\xe8me br\xfbl\xe9e</p>"))
	})
	out := mustFetch(t, allowLoopback, map[string]any{"url": srv.URL, "format": "text"})
	if out.Title != "Café" || out.Content != "crème brûlée" {
		t.Errorf("title %q content %q", out.Title, out.Content)
	}
}

func TestFetchTextAndJSONAsTheyAre(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data.json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":[1,2]}`)
		case "/notes.txt":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprint(w, "line one\n<b>not html</b>\n")
		case "/feed":
			w.Header().Set("Content-Type", "application/atom+xml")
			fmt.Fprint(w, `<feed/>`)
		}
	})
	for path, want := range map[string][2]string{
		"/data.json": {"application/json", `{"a":[1,2]}`},
		"/notes.txt": {"text/plain", "line one\n<b>not html</b>\n"},
		"/feed":      {"application/atom+xml", "<feed/>"},
	} {
		out := mustFetch(t, allowLoopback, map[string]any{"url": srv.URL + path})
		if out.ContentType != want[0] || out.Content != want[1] || out.Title != "" {
			t.Errorf("%s: type %q content %q title %q", path, out.ContentType, out.Content, out.Title)
		}
	}
}

func TestFetchRefusesContentThatIsNotText(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sniffed" {
			w.Header()["Content-Type"] = nil // no header at all: fetch sniffs
			w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.7"))
	})
	wantFailure(t, run(t, allowLoopback, map[string]any{"url": srv.URL + "/doc.pdf"}),
		sdk.CodeActionFailed, "", "is application/pdf, not HTML or text")
	wantFailure(t, run(t, allowLoopback, map[string]any{"url": srv.URL + "/sniffed"}),
		sdk.CodeActionFailed, "", "is image/png, not HTML or text")
}

func TestFetchFailsOnErrorStatus(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	wantFailure(t, run(t, allowLoopback, map[string]any{"url": srv.URL + "/missing"}),
		sdk.CodeActionFailed, "", srv.URL+"/missing answered 404 Not Found")
}

func TestLoopbackIsRefusedWithoutTheAllowance(t *testing.T) {
	hits := 0
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { hits++ })
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, tc := range []struct {
		name string
		cfg  sdk.Config
		url  string
		want string
	}{
		{"no config", nil, srv.URL, "127.0.0.1 is a loopback address"},
		{"allow_private false", sdk.Config{keyAllowPrivate: "false"}, srv.URL, "127.0.0.1 is a loopback address"},
		// The name is checked on the address it resolves to, not on its spelling.
		{"by name", nil, "http://localhost:" + port, "localhost resolves to 127.0.0.1, a loopback address"},
		{"another host allowed", sdk.Config{keyAllowHosts: "intranet.example.com"}, srv.URL, "loopback"},
		{"IPv4-mapped IPv6", nil, "http://[::ffff:127.0.0.1]:" + port, "127.0.0.1 is a loopback address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFailure(t, run(t, tc.cfg, map[string]any{"url": tc.url}), sdk.CodeInvalidInput, "url",
				tc.want, "allow_private", "allow_hosts")
		})
	}
	if hits != 0 {
		t.Errorf("the loopback server was reached %d times", hits)
	}
}

func TestUnspecifiedAddressIsRefused(t *testing.T) {
	wantFailure(t, run(t, nil, map[string]any{"url": "http://0.0.0.0:1/"}), sdk.CodeInvalidInput, "url",
		"0.0.0.0 is a unspecified address")
}

func TestAllowHostsLetsOneHostThrough(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<title>ok</title>") })
	out := mustFetch(t, sdk.Config{keyAllowHosts: "intranet.example.com, 127.0.0.1"}, map[string]any{"url": srv.URL})
	if out.Title != "ok" {
		t.Errorf("title %q", out.Title)
	}
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	out = mustFetch(t, sdk.Config{keyAllowHosts: "LOCALHOST"}, map[string]any{"url": "http://localhost:" + port})
	if out.Title != "ok" {
		t.Errorf("title %q", out.Title)
	}
}

func TestRedirectToAPrivateAddressIsRefused(t *testing.T) {
	private := 0
	target := serve(t, func(w http.ResponseWriter, r *http.Request) { private++ })
	// The first server is reached as "localhost", which allow_hosts lets
	// through; it redirects to 127.0.0.1, which is not listed.
	first := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/secret", http.StatusFound)
	})
	port := first.URL[strings.LastIndex(first.URL, ":")+1:]
	wantFailure(t, run(t, sdk.Config{keyAllowHosts: "localhost"}, map[string]any{"url": "http://localhost:" + port + "/start"}),
		sdk.CodeInvalidInput, "url", "redirected to "+target.URL+"/secret", "127.0.0.1 is a loopback address")
	if private != 0 {
		t.Errorf("the private server was reached %d times", private)
	}
}

func TestRedirectsAreFollowedAndBounded(t *testing.T) {
	var srv *httptest.Server
	srv = serve(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Path, "/hop/%d", &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("%s/hop/%d", srv.URL, n-1), http.StatusMovedPermanently)
			return
		}
		fmt.Fprint(w, "<title>arrived</title>")
	})
	out := mustFetch(t, allowLoopback, map[string]any{"url": srv.URL + "/hop/3"})
	if out.Title != "arrived" || out.URL != srv.URL+"/hop/0" {
		t.Errorf("title %q url %q", out.Title, out.URL)
	}
	cfg := sdk.Config{keyAllowPrivate: "true", keyMaxRedirects: "2"}
	wantFailure(t, run(t, cfg, map[string]any{"url": srv.URL + "/hop/3"}), sdk.CodeActionFailed, "",
		"too many redirects: stopped after 2 (max_redirects)")
	out = mustFetch(t, cfg, map[string]any{"url": srv.URL + "/hop/2"})
	if out.Title != "arrived" {
		t.Errorf("two redirects with max_redirects 2: title %q", out.Title)
	}
}

func TestRedirectToAnotherSchemeIsRefused(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusFound)
	})
	wantFailure(t, run(t, allowLoopback, map[string]any{"url": srv.URL}), sdk.CodeActionFailed, "",
		"redirected to a file: URL; only http and https are followed")
}

func TestBodyIsCutAtMaxBytes(t *testing.T) {
	body := strings.Repeat("é", 5000) // 10000 bytes
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, body)
	})
	res := run(t, sdk.Config{keyAllowPrivate: "true", keyMaxBytes: "1001"}, map[string]any{"url": srv.URL})
	var out FetchOutput
	res.Decode(t, &out)
	// 1001 bytes end in the middle of an "é": the half is dropped.
	if !out.Truncated || out.Bytes != 1001 || out.Content != strings.Repeat("é", 500) {
		t.Errorf("truncated %v bytes %d content %d bytes", out.Truncated, out.Bytes, len(out.Content))
	}
	if len(res.Logs) == 0 || !strings.Contains(res.Logs[len(res.Logs)-1].Message, "max_bytes") {
		t.Errorf("logs %+v", res.Logs)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	start := time.Now()
	wantFailure(t, run(t, sdk.Config{keyAllowPrivate: "true", keyTimeout: "300ms"}, map[string]any{"url": srv.URL}),
		sdk.CodeActionFailed, "", "timed out after 300ms")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "start")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	wantFailure(t, run(t, sdk.Config{keyAllowPrivate: "true", keyTimeout: "300ms"}, map[string]any{"url": srv.URL}),
		sdk.CodeActionFailed, "", "timed out after 300ms")
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		input map[string]any
		field string
		want  string
	}{
		{map[string]any{"url": ""}, "url", "is empty"},
		{map[string]any{"url": "example.com/page"}, "url", "has no scheme; give an absolute URL such as https://example.com/page"},
		{map[string]any{"url": "ftp://example.com/"}, "url", `scheme "ftp" is not allowed`},
		{map[string]any{"url": "http://"}, "url", "has no host"},
		{map[string]any{"url": "http://exa mple.com/%zz"}, "url", "is not a valid URL"},
		{map[string]any{"url": "https://example.com/" + strings.Repeat("a", maxURLLength)}, "url", "characters long"},
	} {
		res := run(t, nil, tc.input)
		wantFailure(t, res, sdk.CodeInvalidInput, tc.field, tc.want)
	}
	// Checked by the schema before the handler runs.
	if res := run(t, nil, map[string]any{"url": 5}); res.Err == nil || res.Err.Code != sdk.CodeInvalidInput {
		t.Errorf("url 5: %+v", res.Err)
	}
	if res := run(t, nil, map[string]any{"url": "https://example.com/", "format": "pdf"}); res.Err == nil ||
		res.Err.Code != sdk.CodeInvalidInput || !strings.Contains(res.Err.Message, "format: value must be one of 'markdown', 'text'") {
		t.Errorf("format pdf: %+v", res.Err)
	}
	if res := run(t, nil, map[string]any{"format": "text"}); res.Err == nil || !strings.Contains(res.Err.Message, "url") {
		t.Errorf("no url: %+v", res.Err)
	}
}

func TestBadConfigIsNamed(t *testing.T) {
	bad := sdk.Config{keyAllowPrivate: "yes please", keyAllowHosts: "ok.example.com, http://x.example/",
		keyMaxBytes: "-1", keyTimeout: "soon", keyMaxRedirects: "99", keyUserAgent: "a\nb"}
	err := checkConfig(bad)
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, key := range []string{keyAllowPrivate, keyAllowHosts, keyMaxBytes, keyTimeout, keyMaxRedirects, keyUserAgent} {
		if !strings.Contains(err.Error(), key+": ") {
			t.Errorf("%v does not name %s", err, key)
		}
	}
	if !strings.Contains(err.Error(), `entry 2, "http://x.example/", is not a host name`) {
		t.Errorf("allow_hosts entry not named: %v", err)
	}
	// A run with a config the host would have refused says so too.
	res := run(t, sdk.Config{keyTimeout: "0s"}, map[string]any{"url": "https://example.com/"})
	if res.Err == nil || !strings.Contains(res.Err.Message, "timeout: must be a duration") {
		t.Errorf("run with bad timeout: %+v", res.Err)
	}
	good := sdk.Config{keyAllowPrivate: "TRUE", keyAllowHosts: " a.example.com ,[::1], 10.0.0.5,", keyMaxBytes: "1024",
		keyTimeout: "1m", keyMaxRedirects: "0", keyUserAgent: "me/1"}
	s, err := loadSettings(good)
	if err != nil {
		t.Fatal(err)
	}
	if !s.allowPrivate || len(s.allowHosts) != 3 || !s.hostAllowed("::1") || !s.hostAllowed("a.example.com") ||
		s.maxBytes != 1024 || s.timeout != time.Minute || s.maxRedirects != 0 || s.userAgent != "me/1" {
		t.Errorf("settings %+v", s)
	}
}

func TestManifest(t *testing.T) {
	m := string(sdktest.New(t, webPlugin, nil).Manifest())
	for _, want := range []string{`"name":"web"`, `"key":"fetch"`, `"type":"read"`, `"key":"allow_private"`, `"key":"allow_hosts"`} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %s", want)
		}
	}
}

func TestExplainKeepsTheStartURL(t *testing.T) {
	u, _ := url.Parse("https://example.com/a")
	err := explain(context.Background(), &url.Error{Op: "Get", URL: u.String(), Err: fmt.Errorf("boom")}, u, settings{})
	if err.Error() != "fetching https://example.com/a: boom" {
		t.Errorf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = explain(ctx, &url.Error{Op: "Get", URL: "https://example.com/b", Err: context.Canceled}, u, settings{timeout: time.Second})
	if err.Error() != "fetching https://example.com/a (redirected to https://example.com/b): stopped: the run was cancelled or reached the host's action timeout" {
		t.Errorf("%v", err)
	}
}
