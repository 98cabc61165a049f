package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// page is the console open in a browser tab, against server p.
type page struct {
	t     *testing.T
	ctx   context.Context
	p     *proc
	shots string // directory for screenshots, "" for none
}

// do runs the steps of one named step of the test, 20 s at most; on
// failure it shows where the page was and what it said.
func (b *page) do(step string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		b.t.Fatalf("%s: %v\npage: %s", step, err, text)
	}
}

func (b *page) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// status is the HTTP status of a fetch the page itself makes, with its
// session cookie.
func (b *page) status(js string) int {
	b.t.Helper()
	st, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](js+`.then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return st
}

func (b *page) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *page) open(fragment string, waitFor string) {
	b.t.Helper()
	b.do("open "+fragment, chromedp.Navigate(b.p.URL+"/console/"+fragment), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

func id(s string) chromedp.ID { return chromedp.ID(s) }

// TestConsoleInBrowser drives the console of a real `toolhost serve` in
// headless Chromium: sign in (a wrong key first), the overview, a try-it
// form with every parameter type, live logs, the runs page, a run's page,
// cancelling a running run, a request without the CSRF token, creating and
// revoking a key, and signing out. TOOLHOST_SCREENSHOTS=dir saves the
// README's screenshots there.
func TestConsoleInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install chromium): the console's browser test is skipped")
	}
	b := &page{t: t, p: startServe(t, serveOpts{}), shots: os.Getenv("TOOLHOST_SCREENSHOTS")}
	b.ctx = browser(t, bin)
	signIn(b)
	tryIt(b)
	runID := liveLogs(b)
	b.open("#/runs", `#runs-table a[href="#/runs/`+runID+`"]`)
	b.open("#/runs?status=succeeded&action_id=testkit.chatty", `#runs-table a[href="#/runs/`+runID+`"]`)
	runPage(b, runID)
	cancelRunning(b)
	if st := b.status(`fetch("/console/api/v1/actions/testkit.noop/run", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"})`); st != 403 {
		t.Errorf("POST without the CSRF token from the page: %d; want 403", st)
	}
	keys(b)
	overview(b)
	b.do("sign out", chromedp.Click(chromedp.CSS(`.signout button`)), chromedp.WaitVisible(id("key")))
	if st := b.status(`fetch("/console/api/v1/plugins")`); st != 401 {
		t.Errorf("after sign out, the page's API call: %d; want 401", st)
	}
}

func signIn(b *page) {
	b.do("wrong key refused",
		chromedp.Navigate(b.p.URL+"/console/"),
		chromedp.WaitVisible(id("key")),
		chromedp.SendKeys(id("key"), "th_wrong"),
		chromedp.Submit(id("key")),
		chromedp.WaitVisible(id("login-error")))
	if got := b.text("#login-error"); !strings.Contains(got, "not valid") {
		b.t.Errorf("login error %q", got)
	}
	b.do("sign in and see plugins",
		chromedp.SendKeys(id("key"), b.p.Key),
		chromedp.Submit(id("key")),
		chromedp.WaitVisible(id("plugins-table")))
	actions := len(b.p.do("GET", "/v1/actions", "").JSON(b.t)["data"].([]any)) // testkit's: the only plugin
	// Plugin, status, restarts, last error, actions, runs.
	if got := strings.Fields(b.text("#plugins-table tbody tr")); len(got) != 5 || got[0] != "testkit" || got[1] != "ready" || got[3] != strconv.Itoa(actions) {
		b.t.Errorf("overview's plugin row: %q; want testkit, ready, 0 restarts, %d actions", got, actions)
	}
}

func tryIt(b *page) {
	b.do("try it: fill a form with every parameter type",
		chromedp.Navigate(b.p.URL+"/console/#/actions/testkit.typed"),
		chromedp.WaitVisible(id("in-input-s")),
		chromedp.SendKeys(id("in-input-s"), "hello"),
		chromedp.SendKeys(id("in-input-n"), "2.5"),
		chromedp.SendKeys(id("in-input-i"), "7"),
		chromedp.Click(id("in-input-b")),
		chromedp.SendKeys(id("in-input-a"), "x\ny"),
		chromedp.SendKeys(id("in-input-o"), `{"k":1}`),
		chromedp.SetValue(id("in-input-mode"), `"slow"`))
	b.shot("console-try-it.png")
	b.do("try it: run",
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-output pre`)))
	out := b.text(`#live-output pre`)
	for _, want := range []string{`"s": "hello"`, `"n": 2.5`, `"i": 7`, `"b": true`, `"x"`, `"y"`, `"k": 1`, `"mode": "slow"`} {
		if !strings.Contains(out, want) {
			b.t.Errorf("typed output lacks %s:\n%s", want, out)
		}
	}
}

// liveLogs runs the chatty action from its form and sees its log lines
// arrive while it runs; it returns the run's id.
func liveLogs(b *page) string {
	b.do("live logs",
		chromedp.Navigate(b.p.URL+"/console/#/actions/testkit.chatty"),
		chromedp.WaitVisible(id("in-input-lines")),
		chromedp.SendKeys(id("in-input-lines"), "3"),
		chromedp.SendKeys(id("in-input-delayMs"), "300"),
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-logs li:nth-child(1)`)))
	if got := b.text("#live-status"); !strings.HasPrefix(got, "running") {
		b.t.Errorf("status %q when the first log line showed; want the run still running (the lines come live)", got)
	}
	b.do("the run ends", chromedp.WaitVisible(chromedp.CSS(`#live-status .status-succeeded`)))
	if got := b.text("#live-logs"); !strings.Contains(got, "line 1") || !strings.Contains(got, "line 3") {
		b.t.Errorf("live logs: %q", got)
	}
	return b.text("#try-run-link")
}

// runPage opens a finished run's page: input, output, its events again.
func runPage(b *page, runID string) {
	b.open("#/runs/"+runID, `#live-status .status-succeeded`)
	b.do("its logs", chromedp.WaitVisible(chromedp.CSS(`#live-logs li:nth-child(3)`)))
	if got := b.text("main"); !strings.Contains(got, "testkit.chatty") || !strings.Contains(got, `"lines": 3`) || !strings.Contains(got, "Output") {
		b.t.Errorf("run page: %q", got)
	}
	b.shot("console-run.png")
}

func cancelRunning(b *page) {
	b.do("open a running run",
		chromedp.Navigate(b.p.URL+"/console/#/actions/testkit.sleep"),
		chromedp.WaitVisible(id("in-input-ms")),
		chromedp.SendKeys(id("in-input-ms"), "30000"),
		chromedp.Click(chromedp.CSS(`#try-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#try-run-link`)),
		chromedp.Click(id("try-run-link")),
		chromedp.WaitVisible(id("cancel-run")))
	runID := strings.TrimPrefix(b.text("h1"), "Run ")
	b.do("cancel it",
		chromedp.Click(id("cancel-run")),
		chromedp.WaitVisible(chromedp.CSS(`#live-status .status-cancelled`)))
	if st := b.p.do("GET", "/v1/runs/"+runID, "").Data(b.t)["status"]; st != "cancelled" {
		b.t.Errorf("run %s after cancel: %v", runID, st)
	}
}

func keys(b *page) {
	b.do("create a key",
		chromedp.Navigate(b.p.URL+"/console/#/keys"),
		chromedp.WaitVisible(id("key-name")),
		chromedp.SendKeys(id("key-name"), "temp"),
		chromedp.Click(chromedp.CSS(`#key-form button[type=submit]`)),
		chromedp.WaitVisible(id("new-key")))
	newKey := strings.TrimSpace(b.text("#new-key"))
	if r := b.p.do("GET", "/v1/plugins", "", "x-api-key", newKey); r.Status != 200 {
		b.t.Errorf("the new key does not work: %d", r.Status)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.confirm = () => true; true`)); err != nil {
		b.t.Fatal(err) // say yes to the confirm() that revoking asks
	}
	b.do("revoke it",
		chromedp.Click(chromedp.CSS(`button[data-revoke="temp"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`button[data-revoke="temp"]`)))
	if r := b.p.do("GET", "/v1/plugins", "", "x-api-key", newKey); r.Status != 401 {
		b.t.Errorf("the revoked key still works: %d", r.Status)
	}
}

// overview, after the runs above and one failure: the counts show them.
func overview(b *page) {
	if r := b.p.do("POST", "/v1/actions/testkit.fail/run", `{}`); r.Status < 400 {
		b.t.Fatalf("testkit.fail: %d", r.Status)
	}
	b.open("#/", "#plugins-table")
	runs, _ := strconv.Atoi(strings.TrimSuffix(b.text("#runs-hour"), "+"))
	if fails := b.text("#fails-hour"); runs < 4 || fails != "1" {
		b.t.Errorf("overview: %d runs and %s failed in the last hour; want 4 (typed, chatty, sleep, fail) and 1", runs, fails)
	}
	b.shot("console-overview.png")
}
