package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeTourPage is the page the README's quick tour serves.
const readmeTourPage = `<title>Hello</title><h1>It works</h1><p>Served <b>locally</b>.</p>`

// makeRunConfig is the repository's plugins.hcl, as make run serves it,
// with ./bin/NAME pointing at the binaries under test.
func makeRunConfig(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../plugins.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	for name, path := range map[string]string{"web": bins.web, "gmail": bins.gmail, "slack": bins.slack} {
		from := fmt.Sprintf("%q", "./bin/"+name)
		if !strings.Contains(cfg, from) {
			t.Fatalf("plugins.hcl does not serve %s from %s", name, from)
		}
		cfg = strings.ReplaceAll(cfg, from, fmt.Sprintf("%q", path))
	}
	return cfg
}

// TestREADMEQuickTour follows the README's quick tour against make run's
// plugins.hcl: a first start that prints a key, the web plugin ready without
// credentials, then the three steps with web.fetch on a page served locally
// (WEB_ALLOW_HOSTS=127.0.0.1, as the README starts it).
func TestREADMEQuickTour(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tour := string(readme)
	tour = tour[strings.Index(tour, "## A quick tour with curl"):]
	tour = tour[:strings.Index(tour, "\n## ")]
	for _, step := range []string{"WEB_ALLOW_HOSTS=127.0.0.1 make run", readmeTourPage, `-d '{"url":"http://127.0.0.1:8000/"}'`} {
		if !strings.Contains(tour, step) {
			t.Fatalf("the tour no longer says %q; update this test with it", step)
		}
	}
	runPath := regexp.MustCompile(`\$URL(/v1/actions/(CA[0-9A-F]{30})/run)`).FindStringSubmatch(tour)
	if runPath == nil {
		t.Fatal("the tour runs no action by id")
	}

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, readmeTourPage)
	}))
	defer page.Close()

	p := startServe(t, serveOpts{Config: serveConfig{Raw: makeRunConfig(t)}, NoEnvKey: true, Env: []string{"WEB_ALLOW_HOSTS=127.0.0.1"}})
	out := p.stdout.String()
	for _, want := range []string{"Created the first API key", "plugin web          1 actions, ready", "plugin gmail        2 actions, MISCONFIGURED", "plugin slack        4 actions, ready"} {
		if !strings.Contains(out, want) {
			t.Errorf("start output lacks %q:\n%s", want, out)
		}
	}
	if p.Key == "" {
		t.Fatalf("no key printed:\n%s", out)
	}

	// 1. The specs hold the action the tour runs, under the id it uses.
	specs := p.do("GET", "/v1/actions/specs/openai-functions", "")
	wantStatus(t, specs, 200)
	if !strings.Contains(string(specs.Body), `"name":"`+runPath[2]+`"`) || !strings.Contains(string(specs.Body), `Fetch a web page: `) {
		t.Fatalf("specs lack %s (web.fetch): %s", runPath[2], specs.Body)
	}

	// 2. Run it on the local page.
	r := p.do("POST", runPath[1], `{"url":"`+page.URL+`/"}`)
	wantStatus(t, r, 200)
	data := r.Data(t)
	output, _ := data["output"].(map[string]any)
	if output["title"] != "Hello" || output["content"] != "# It works\n\nServed **locally**." ||
		output["contentType"] != "text/html" || output["bytes"] != float64(len(readmeTourPage)) || output["truncated"] != false {
		t.Fatalf("output %v", output)
	}
	if !strings.Contains(tour, fmt.Sprintf(`"bytes":%d,`, len(readmeTourPage))) {
		t.Errorf("the tour's answer does not say bytes %d", len(readmeTourPage))
	}

	// 3. The run is in history.
	runID, _ := data["run_id"].(string)
	run := p.do("GET", "/v1/runs/"+runID, "")
	wantStatus(t, run, 200)
	if got := run.Data(t); got["status"] != "succeeded" {
		t.Fatalf("run %v", got)
	}

	// The alias works too, and gmail without its variables answers 502 naming them.
	wantStatus(t, p.do("POST", "/v1/actions/web.fetch/run", `{"url":"`+page.URL+`/","format":"text"}`), 200)
	g := p.do("POST", "/v1/actions/gmail.sendEmail/run", `{"recipient":"bob@example.com","subject":"Report","body":"It is ready."}`)
	wantStatus(t, g, 502)
	if _, msg := g.ErrorOf(t); !strings.Contains(msg, "GMAIL_APP_PASSWORD") {
		t.Errorf("gmail message %q", msg)
	}
}

// TestREADMEQuickTourWithoutTheAllowance: started as plain make run, the
// web plugin refuses the local page with a 400 naming url, as the README says.
func TestREADMEQuickTourWithoutTheAllowance(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the page was fetched without the allowance")
	}))
	defer page.Close()
	p := startServe(t, serveOpts{Config: serveConfig{Raw: makeRunConfig(t)}})
	r := p.do("POST", "/v1/actions/web.fetch/run", `{"url":"`+page.URL+`/"}`)
	wantStatus(t, r, 400)
	if code, msg := r.ErrorOf(t); code != "invalid_input" || !strings.Contains(msg, "127.0.0.1 is a loopback address") {
		t.Fatalf("%s: %s", code, msg)
	}
}
