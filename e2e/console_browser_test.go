package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is the browser binary, "" when none is installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts headless Chromium with a fresh profile; the test's
// cleanup ends it (and its child processes).
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-extensions", true),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, with the context that lives as long as the
	// test: the browser is bound to the context that started it, and the
	// steps' timeouts must not end it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	return ctx
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real `toolhost serve`: sign in (a wrong key first), the overview, a try-it form with
// every parameter type, live logs, the runs page, cancelling a running
// run, creating and revoking a key, a request without the CSRF token, and
// signing out. TOOLHOST_SCREENSHOTS=dir saves screenshots there.
func TestConsoleInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium): the console's browser test is skipped")
	}
	if testing.Short() {
		t.Skip("-short: the browser test is skipped")
	}
	h := startServe(t, serveOpts{})
	ctx := browser(t, bin)
	shots := os.Getenv("TOOLHOST_SCREENSHOTS")
	do := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v\npage: %s", step, err, page)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do("wrong key refused",
		chromedp.Navigate(h.URL+"/console/"),
		chromedp.WaitVisible(id("key")),
		chromedp.SendKeys(id("key"), "th_wrong"),
		chromedp.Submit(id("key")),
		chromedp.WaitVisible(id("login-error")))
	if got := text("#login-error"); !strings.Contains(got, "not valid") {
		t.Errorf("login error %q", got)
	}

	do("sign in and see plugins",
		chromedp.SendKeys(id("key"), h.Key),
		chromedp.Submit(id("key")),
		chromedp.WaitVisible(id("plugins-table")))
	if got := text("#plugins-table"); !strings.Contains(got, "testkit") || !strings.Contains(got, "ready") {
		t.Errorf("overview plugins: %q", got)
	}
	shot("console-overview.png")

	do("try it: fill a form with every parameter type",
		chromedp.Navigate(h.URL+"/console/#/actions/testkit.typed"),
		chromedp.WaitVisible(id("in-input-s")),
		chromedp.SendKeys(id("in-input-s"), "hello"),
		chromedp.SendKeys(id("in-input-n"), "2.5"),
		chromedp.SendKeys(id("in-input-i"), "7"),
		chromedp.Click(id("in-input-b")),
		chromedp.SendKeys(id("in-input-a"), "x\ny"),
		chromedp.SendKeys(id("in-input-o"), `{"k":1}`),
		chromedp.SetValue(id("in-input-mode"), `"slow"`))
	shot("console-try-it.png")
	do("try it: run",
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-output pre`)))
	out := text(`#live-output pre`)
	for _, want := range []string{`"s": "hello"`, `"n": 2.5`, `"i": 7`, `"b": true`, `"x"`, `"k": 1`, `"mode": "slow"`} {
		if !strings.Contains(out, want) {
			t.Errorf("typed output lacks %s:\n%s", want, out)
		}
	}

	do("live logs",
		chromedp.Navigate(h.URL+"/console/#/actions/testkit.chatty"),
		chromedp.WaitVisible(id("in-input-lines")),
		chromedp.SendKeys(id("in-input-lines"), "3"),
		chromedp.SendKeys(id("in-input-delayMs"), "200"),
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-logs li:nth-child(3)`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status .status-succeeded`)))
	if got := text("#live-logs"); !strings.Contains(got, "line 1") || !strings.Contains(got, "line 3") {
		t.Errorf("live logs: %q", got)
	}
	runID := text("#try-run-link")

	do("the run is in the runs page",
		chromedp.Navigate(h.URL+"/console/#/runs"),
		chromedp.WaitVisible(chromedp.CSS(`#runs-table a[href="#/runs/`+runID+`"]`)))

	do("open a running run",
		chromedp.Navigate(h.URL+"/console/#/actions/testkit.sleep"),
		chromedp.WaitVisible(id("in-input-ms")),
		chromedp.SendKeys(id("in-input-ms"), "30000"),
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#try-run-link`)),
		chromedp.Click(id("try-run-link")),
		chromedp.WaitVisible(id("cancel-run")))
	shot("console-run.png")
	do("cancel it",
		chromedp.Click(id("cancel-run")),
		chromedp.WaitVisible(chromedp.CSS(`#live-status .status-cancelled`)))

	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/console/api/v1/actions/testkit.noop/run", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Errorf("POST without the CSRF token from the page: %d %v; want 403", status, err)
	}

	do("create a key",
		chromedp.Navigate(h.URL+"/console/#/keys"),
		chromedp.WaitVisible(id("key-name")),
		chromedp.SendKeys(id("key-name"), "temp"),
		chromedp.Click(chromedp.CSS(`#key-form button[type=submit]`)),
		chromedp.WaitVisible(id("new-key")))
	newKey := strings.TrimSpace(text("#new-key"))
	if r := h.do("GET", "/v1/plugins", "", "x-api-key", newKey); r.Status != 200 {
		t.Errorf("the new key does not work: %d", r.Status)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		t.Fatal(err) // say yes to the confirm() that revoking asks
	}
	do("revoke it",
		chromedp.Click(chromedp.CSS(`button[data-revoke="temp"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`button[data-revoke="temp"]`)))
	if r := h.do("GET", "/v1/plugins", "", "x-api-key", newKey); r.Status != 401 {
		t.Errorf("the revoked key still works: %d", r.Status)
	}

	do("sign out",
		chromedp.Click(chromedp.CSS(`.signout button`)),
		chromedp.WaitVisible(id("key")))
	// The page's own session is gone too: its API calls are refused.
	status, err = chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/console/api/v1/plugins").then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 401 {
		t.Errorf("after sign out, the page's API call: %d %v; want 401", status, err)
	}
}
