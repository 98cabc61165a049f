package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
)

const (
	msgNoKey  = "API key is not provided in the x-api-key request header."
	msgBadKey = "API key is not valid."
)

var idRe = regexp.MustCompile(`^C[PA][A-F0-9]{30}$`)

// specPluginID and specActionID compute ids as API.md defines them,
// independently of the host package.
func specPluginID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "CP" + strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}

func specActionID(plugin, key string) string {
	sum := sha256.Sum256([]byte(plugin + ":" + key))
	return "CA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}

// TestServeConneryAPI starts the real toolhost with the testkit, gmail
// (no credentials) and slack plugins, checks what it prints at start, and
// calls every Connery route over HTTP; it ends with SIGTERM during a run.
func TestServeConneryAPI(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{Top: "max_body_bytes = 1024", Gmail: true, Slack: true}))
	out := s.stdout.String()

	counts := map[string]int{}
	t.Run("start output", func(t *testing.T) {
		if !strings.Contains(out, "listening on "+s.URL) || !strings.Contains(out, "API key: the one in TOOLHOST_API_KEY") {
			t.Errorf("start output lacks the URL or the key line:\n%s", out)
		}
		for _, c := range []struct{ name, status string }{{"gmail", "MISCONFIGURED"}, {"slack", "ready"}, {"testkit", "ready"}} {
			re := regexp.MustCompile(`(?m)^plugin ` + c.name + `\s+(\d+) actions, ` + c.status + `(.*)$`)
			m := re.FindStringSubmatch(out)
			if m == nil {
				t.Errorf("no %q line for plugin %s in:\n%s", c.status, c.name, out)
				continue
			}
			counts[c.name], _ = strconv.Atoi(m[1])
			if counts[c.name] == 0 {
				t.Errorf("plugin %s: 0 actions", c.name)
			}
			if c.name == "gmail" {
				for _, w := range []string{"gmailAppPassword", "gmailEmailAddress", "E2E_GMAIL_APP_PASSWORD", "E2E_GMAIL_EMAIL_ADDRESS"} {
					if !strings.Contains(m[2], w) {
						t.Errorf("gmail MISCONFIGURED line does not name %s: %s", w, m[0])
					}
				}
			}
		}
		if strings.Contains(out, "FAILED") {
			t.Errorf("a plugin failed:\n%s", out)
		}
	})

	t.Run("public routes", func(t *testing.T) {
		r := s.do("GET", "/", "", "x-api-key", "")
		wantStatus(t, r, 200)
		if msg, _ := r.Data(t)["message"].(string); msg == "" {
			t.Errorf("welcome without message: %s", r.Body)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id on the answer")
		}
		h := s.do("GET", "/health", "", "x-api-key", "")
		wantStatus(t, h, 200)
		var health struct {
			Data struct {
				Plugins []struct{ Name, Status string } `json:"plugins"`
			} `json:"data"`
		}
		if err := json.Unmarshal(h.Body, &health); err != nil {
			t.Fatal(err)
		}
		st := map[string]string{}
		for _, p := range health.Data.Plugins {
			st[p.Name] = p.Status
		}
		if st["gmail"] != "misconfigured" || st["slack"] != "ready" || st["testkit"] != "ready" {
			t.Errorf("health: %s", h.Body)
		}
		if strings.Contains(string(h.Body), s.DataDir) || strings.Contains(string(h.Body), bins.testkit) {
			t.Errorf("health shows paths: %s", h.Body)
		}
	})

	t.Run("auth", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/v1/verify-access", ""}, {"GET", "/v1/actions", ""}, {"GET", "/v1/plugins", ""},
			{"GET", "/v1/actions/specs/openai-functions", ""}, {"POST", "/v1/actions/testkit.noop/run", "{}"},
			{"GET", "/v1/admin/plugins/refresh", ""},
		} {
			r := s.do(c.method, c.path, c.body, "x-api-key", "")
			wantStatus(t, r, 401)
			if _, msg := r.ErrorOf(t); msg != msgNoKey {
				t.Errorf("%s %s without key: message %q", c.method, c.path, msg)
			}
			r = s.do(c.method, c.path, c.body, "x-api-key", "th_not_a_key")
			wantStatus(t, r, 401)
			if _, msg := r.ErrorOf(t); msg != msgBadKey {
				t.Errorf("%s %s with a wrong key: message %q", c.method, c.path, msg)
			}
		}
		wantStatus(t, s.do("GET", "/v1/verify-access", ""), 200)
		wantStatus(t, s.do("GET", "/v1/verify-access", "", "x-api-key", "", "Authorization", "Bearer "+testKey), 200)
		r := s.do("GET", "/v1/verify-access", "", "x-api-key", "", "Authorization", "Bearer nope")
		wantStatus(t, r, 401)
		if _, msg := r.ErrorOf(t); msg != msgBadKey {
			t.Errorf("wrong bearer: %q", msg)
		}
		if m := s.do("GET", "/v1/verify-access", "").JSON(t); m["status"] != "success" {
			t.Errorf("verify-access: %v", m)
		}
	})

	t.Run("plugins", func(t *testing.T) {
		r := s.do("GET", "/v1/plugins", "")
		wantStatus(t, r, 200)
		var list struct {
			Data []struct{ ID, Key, Title, Description, Version, Status string } `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Data) != 3 {
			t.Fatalf("want 3 plugins: %s", r.Body)
		}
		for _, p := range list.Data {
			if p.ID != specPluginID(p.Key) || p.ID != core.PluginID(p.Key) || !idRe.MatchString(p.ID) {
				t.Errorf("plugin %s: id %s, want %s", p.Key, p.ID, specPluginID(p.Key))
			}
			if p.Title == "" || p.Description == "" || p.Version == "" {
				t.Errorf("plugin %s lacks title/description/version: %+v", p.Key, p)
			}
			for _, ref := range []string{p.ID, p.Key} {
				d := s.do("GET", "/v1/plugins/"+ref, "")
				wantStatus(t, d, 200)
				var detail struct {
					Data struct {
						ID                      string           `json:"id"`
						ConfigurationParameters []map[string]any `json:"configurationParameters"`
						Actions                 []struct{ ID, Key, PluginID string }
					} `json:"data"`
				}
				if err := json.Unmarshal(d.Body, &detail); err != nil {
					t.Fatal(err)
				}
				if detail.Data.ID != p.ID || len(detail.Data.Actions) != counts[p.Key] {
					t.Errorf("plugin %s detail: id %s, %d actions (start output said %d)", ref, detail.Data.ID, len(detail.Data.Actions), counts[p.Key])
				}
				for _, a := range detail.Data.Actions {
					if a.ID != specActionID(p.Key, a.Key) || a.PluginID != p.ID {
						t.Errorf("action %s.%s: id %s pluginId %s", p.Key, a.Key, a.ID, a.PluginID)
					}
				}
				for _, c := range detail.Data.ConfigurationParameters {
					if _, has := c["value"]; has {
						t.Errorf("plugin %s shows a configuration value: %v", ref, c)
					}
				}
				if p.Key == "gmail" && !strings.Contains(string(d.Body), `"gmailAppPassword"`) {
					t.Errorf("gmail detail lacks its configuration parameters: %s", d.Body)
				}
				if strings.Contains(string(d.Body), "Assistant\"") {
					t.Errorf("gmail detail shows the senderName value: %s", d.Body)
				}
			}
		}
	})

	var actionIDs []string
	t.Run("actions", func(t *testing.T) {
		r := s.do("GET", "/v1/actions", "")
		wantStatus(t, r, 200)
		var list struct {
			Status string `json:"status"`
			Data   []struct {
				ID, Key, Title, Description, Type, PluginID string
				InputParameters                             []struct {
					Key, Title, Description, Type string
					Validation                    struct{ Required bool }
				}
				InputSchema json.RawMessage
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil || list.Status != "success" {
			t.Fatalf("%v: %s", err, r.Body)
		}
		total := counts["gmail"] + counts["slack"] + counts["testkit"]
		if len(list.Data) != total {
			t.Errorf("%d actions listed, start output said %d", len(list.Data), total)
		}
		var send bool
		for _, a := range list.Data {
			actionIDs = append(actionIDs, a.ID)
			if !idRe.MatchString(a.ID) || a.Title == "" || len(a.InputSchema) == 0 || !slices.Contains([]string{"create", "read", "update", "delete"}, a.Type) {
				t.Errorf("action %s: %+v", a.Key, a)
			}
			if a.ID == specActionID("gmail", "sendEmail") {
				send = true
				req := map[string]bool{}
				for _, p := range a.InputParameters {
					req[p.Key] = p.Validation.Required
				}
				if !req["recipient"] || !req["subject"] || !req["body"] || req["cc"] {
					t.Errorf("sendEmail parameters: %+v", a.InputParameters)
				}
			}
		}
		if !send {
			t.Errorf("gmail sendEmail is not listed although gmail is only misconfigured: %s", r.Body)
		}
		for _, ref := range []string{core.ActionID("gmail", "sendEmail"), "gmail.sendEmail"} {
			d := s.do("GET", "/v1/actions/"+ref, "")
			wantStatus(t, d, 200)
			if got := d.Data(t); got["id"] != core.ActionID("gmail", "sendEmail") || got["title"] != "Send email" {
				t.Errorf("GET /v1/actions/%s: %s", ref, d.Body)
			}
		}
	})

	t.Run("openai-functions", func(t *testing.T) {
		r := s.do("GET", "/v1/actions/specs/openai-functions", "")
		wantStatus(t, r, 200)
		var fns []struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Parameters  struct {
				Type       string                    `json:"type"`
				Properties map[string]map[string]any `json:"properties"`
				Required   []string                  `json:"required"`
			} `json:"parameters"`
		}
		if err := json.Unmarshal(r.Body, &fns); err != nil {
			t.Fatalf("not a raw array of functions (%v): %.300s", err, r.Body)
		}
		if len(fns) != len(actionIDs) {
			t.Errorf("%d functions for %d actions", len(fns), len(actionIDs))
		}
		var found bool
		for _, f := range fns {
			if f.Name != core.ActionID("gmail", "sendEmail") {
				continue
			}
			found = true
			if !strings.HasPrefix(f.Description, "Send email: ") || f.Parameters.Type != "object" {
				t.Errorf("sendEmail function: %+v", f)
			}
			slices.Sort(f.Parameters.Required)
			if !slices.Equal(f.Parameters.Required, []string{"body", "recipient", "subject"}) {
				t.Errorf("sendEmail required %v", f.Parameters.Required)
			}
			rec := f.Parameters.Properties["recipient"]
			if desc, _ := rec["description"].(string); rec["type"] != "string" || !strings.HasPrefix(desc, "Email recipient: ") {
				t.Errorf("recipient property %v", rec)
			}
		}
		if !found {
			t.Errorf("no gmail send-email function named %s", core.ActionID("gmail", "sendEmail"))
		}
	})

	t.Run("openapi", func(t *testing.T) {
		r := s.do("GET", "/v1/actions/specs/openapi", "", "x-api-key", "")
		wantStatus(t, r, 200)
		// Structure only: validating with an OpenAPI library would need
		// go.sum entries this package may not add.
		var doc struct {
			OpenAPI string `json:"openapi"`
			Info    struct{ Title, Version string }
			Paths   map[string]map[string]struct {
				OperationID string `json:"operationId"`
				RequestBody any    `json:"requestBody"`
				Responses   map[string]any
			} `json:"paths"`
			Components struct {
				SecuritySchemes map[string]map[string]string `json:"securitySchemes"`
			} `json:"components"`
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatalf("not a JSON document: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Info.Title == "" || doc.Info.Version == "" {
			t.Errorf("openapi %q, info %+v", doc.OpenAPI, doc.Info)
		}
		if k := doc.Components.SecuritySchemes["apiKey"]; k["in"] != "header" || k["name"] != "x-api-key" {
			t.Errorf("security scheme %v", doc.Components.SecuritySchemes)
		}
		op, ok := doc.Paths["/v1/actions/"+core.ActionID("gmail", "sendEmail")+"/run"]["post"]
		if !ok || op.OperationID == "" || op.RequestBody == nil || op.Responses["200"] == nil {
			t.Errorf("no usable POST run operation for gmail sendEmail: %+v", op)
		}
		if len(doc.Paths) != len(actionIDs) {
			t.Errorf("%d paths for %d actions", len(doc.Paths), len(actionIDs))
		}
	})

	t.Run("run both body forms", func(t *testing.T) {
		id := core.ActionID("testkit", "echo")
		for _, c := range []struct{ ref, body string }{
			{id, `{"input":{"text":"connery"}}`},
			{id, `{"text":"connery"}`},
			{"testkit.echo", `{"input":{"text":"connery"}}`},
			{"testkit.echo", `{"text":"connery"}`},
		} {
			r := s.do("POST", "/v1/actions/"+c.ref+"/run", c.body)
			wantStatus(t, r, 200)
			d := r.Data(t)
			out, _ := d["output"].(map[string]any)
			used, _ := d["used"].(map[string]any)
			runID, _ := d["run_id"].(string)
			if out["text"] != "connery" || used["actionId"] != id || !strings.HasPrefix(runID, "run_") {
				t.Fatalf("%s %s: %s", c.ref, c.body, r.Body)
			}
			if in, _ := used["input"].(map[string]any); in["text"] != "connery" {
				t.Errorf("used.input: %s", r.Body)
			}
			run := s.do("GET", "/v1/runs/"+runID, "")
			wantStatus(t, run, 200)
			if rd := run.Data(t); rd["status"] != "succeeded" || rd["action_id"] != id {
				t.Errorf("history of %s: %s", runID, run.Body)
			}
		}
	})

	t.Run("404", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/v1/actions/CA000000000000000000000000000000", ""},
			{"POST", "/v1/actions/CA000000000000000000000000000000/run", "{}"},
			{"POST", "/v1/actions/testkit.nothing/run", "{}"},
			{"GET", "/v1/plugins/CP000000000000000000000000000000", ""},
			{"GET", "/v1/plugins/nosuchplugin", ""},
			{"GET", "/no/such/route", ""},
			{"GET", "/v1/no/such/route", ""},
		} {
			r := s.do(c.method, c.path, c.body)
			if r.Status != 404 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
				continue
			}
			if code, _ := r.ErrorOf(t); code != "not_found" {
				t.Errorf("%s %s: code %q", c.method, c.path, code)
			}
		}
	})

	t.Run("405", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"DELETE", "/v1/actions"}, {"GET", "/v1/actions/testkit.noop/run"}, {"POST", "/health"}, {"PUT", "/v1/plugins"},
		} {
			r := s.do(c.method, c.path, "")
			if r.Status != 405 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
				continue
			}
			if code, _ := r.ErrorOf(t); code != "method_not_allowed" {
				t.Errorf("%s %s: code %q", c.method, c.path, code)
			}
		}
	})

	t.Run("403", func(t *testing.T) {
		r := s.do("POST", "/v1/admin/keys", `{"name":"e2e-reader","scopes":["read"]}`)
		wantStatus(t, r, 201)
		reader, _ := r.Data(t)["key"].(string)
		wantStatus(t, s.do("GET", "/v1/actions", "", "x-api-key", reader), 200)
		for _, c := range []struct{ method, path, body, scope string }{
			{"POST", "/v1/actions/testkit.noop/run", `{}`, "run"}, {"GET", "/v1/admin/keys", "", "admin"},
		} {
			r := s.do(c.method, c.path, c.body, "x-api-key", reader)
			wantStatus(t, r, 403)
			if code, msg := r.ErrorOf(t); code != "forbidden" || !strings.Contains(msg, `"`+c.scope+`" scope`) {
				t.Errorf("%s %s with a read key: %s", c.method, c.path, r.Body)
			}
		}
	})

	t.Run("413", func(t *testing.T) {
		r := s.do("POST", "/v1/actions/testkit.echo/run", `{"text":"`+strings.Repeat("a", 2000)+`"}`)
		wantStatus(t, r, 413)
		if code, msg := r.ErrorOf(t); code != "request_too_large" || !strings.Contains(msg, "1024") {
			t.Errorf("413: %s", r.Body)
		}
		wantStatus(t, s.do("POST", "/v1/actions/testkit.echo/run", `{"text":"`+strings.Repeat("a", 900)+`"}`), 200)
	})

	t.Run("400 names the field", func(t *testing.T) {
		for _, c := range []struct {
			name, action, body string
			want               []string
		}{
			{"missing", "testkit.echo", `{"input":{}}`, []string{"text"}},
			{"missing flat", "testkit.echo", `{"secret":"x"}`, []string{"text"}},
			{"extra", "testkit.echo", `{"text":"a","colour":"red"}`, []string{"colour"}},
			{"wrong type", "testkit.echo", `{"input":{"text":5}}`, []string{"text", "string"}},
			{"wrong types", "testkit.typed", `{"s":1,"n":"x","i":2.5,"b":"yes","zz":0}`, []string{"s", "n", "i", "b", "zz"}},
			{"non-object body", "testkit.echo", `[1,2]`, []string{"object"}},
			{"string body", "testkit.echo", `"hi"`, []string{"object"}},
			{"input not an object", "testkit.echo", `{"input":"x"}`, []string{"input", "object"}},
			{"invalid JSON", "testkit.echo", `{"text":`, []string{"JSON"}},
			{"empty body", "testkit.echo", ``, []string{"empty"}},
		} {
			r := s.do("POST", "/v1/actions/"+c.action+"/run", c.body)
			if r.Status != 400 {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				continue
			}
			_, msg := r.ErrorOf(t)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: message %q does not name %q", c.name, msg, w)
				}
			}
		}
	})

	t.Run("plugin crash is 502, next run works", func(t *testing.T) {
		before := testkitPID(t, s)
		r := s.do("POST", "/v1/actions/testkit.crash/run", `{"ms":20}`)
		wantStatus(t, r, 502)
		if code, _ := r.ErrorOf(t); code != "plugin_unavailable" {
			t.Errorf("crash: %s", r.Body)
		}
		if alive(before) {
			t.Errorf("crashed plugin pid %d still alive", before)
		}
		n := s.do("POST", "/v1/actions/testkit.echo/run", `{"text":"after"}`)
		wantStatus(t, n, 200)
		if after := testkitPID(t, s); after == before {
			t.Errorf("testkit pid unchanged (%d) after a crash", after)
		}
	})

	t.Run("gmail misconfigured is 502", func(t *testing.T) {
		r := s.do("POST", "/v1/actions/gmail.sendEmail/run", `{"input":{"recipient":"a@example.com","subject":"hi","body":"text"}}`)
		wantStatus(t, r, 502)
		code, msg := r.ErrorOf(t)
		if code != "plugin_misconfigured" {
			t.Errorf("code %q", code)
		}
		for _, w := range []string{"gmailAppPassword", "gmailEmailAddress", "E2E_GMAIL_APP_PASSWORD", "E2E_GMAIL_EMAIL_ADDRESS"} {
			if !strings.Contains(msg, w) {
				t.Errorf("message does not name %s: %q", w, msg)
			}
		}
	})

	t.Run("refresh keeps runs in flight and applies config", func(t *testing.T) {
		var wg sync.WaitGroup
		var slow resp
		var slowErr error
		wg.Add(1)
		go func() { defer wg.Done(); slow, slowErr = s.try("POST", "/v1/actions/testkit.sleep/run", `{"ms":600}`) }()
		time.Sleep(150 * time.Millisecond)
		// Change the testkit plugin's config: the refresh restarts it.
		cfg := serveConfig{Top: "max_body_bytes = 1024", Gmail: true, Slack: true, TestkitConfig: map[string]string{"greeting": "hello"}}
		if err := os.WriteFile(s.ConfigPath, []byte(cfg.hcl()), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"GET", "POST"} {
			r := s.do(m, "/v1/admin/plugins/refresh", "")
			wantStatus(t, r, 200)
			if !strings.Contains(string(r.Body), `"testkit"`) {
				t.Errorf("refresh answer: %s", r.Body)
			}
		}
		wg.Wait()
		if slowErr != nil {
			t.Fatal(slowErr)
		}
		wantStatus(t, slow, 200)
		r := s.do("POST", "/v1/actions/testkit.echo/run", `{"text":"connery"}`)
		wantStatus(t, r, 200)
		if out, _ := r.Data(t)["output"].(map[string]any); out["text"] != "hello connery" {
			t.Errorf("after changing the config and refreshing, echo says %v", out["text"])
		}
	})

	t.Run("SIGTERM during a run", func(t *testing.T) {
		sigtermDuringRun(t, s)
	})
}

// serveOptions wraps a config in options with the defaults.
func serveOptions(c serveConfig) serveOpts { return serveOpts{Config: c} }

// testkitPID is the pid of the host's testkit plugin process.
func testkitPID(t *testing.T, s *proc) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, pid := range children(s.Pid) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			if strings.HasPrefix(string(cmdline), bins.testkit+"\x00") || string(cmdline) == bins.testkit {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no testkit child of pid %d", s.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sigtermDuringRun: a blocking sleep of 1.5 s, SIGTERM after 200 ms; the
// run's answer is a success, then the host exits 0 and no plugin process
// is left.
func sigtermDuringRun(t *testing.T, s *proc) {
	kids := s.pluginPIDs(t, 1)
	type result struct {
		r   resp
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		r, err := s.try("POST", "/v1/actions/testkit.sleep/run", `{"ms":1500}`)
		done <- result{r, err}
	}()
	time.Sleep(200 * time.Millisecond)
	s.stopped = true // this test stops it
	if err := syscall.Kill(s.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to the run 20 s after SIGTERM")
	}
	if res.err != nil {
		t.Fatalf("run during SIGTERM: %v", res.err)
	}
	wantStatus(t, res.r, 200)
	if out, _ := res.r.Data(t)["output"].(map[string]any); out["sleptMs"] == nil || out["sleptMs"].(float64) < 1500 {
		t.Errorf("run output: %s", res.r.Body)
	}
	code, exited := s.wait(15 * time.Second)
	if !exited {
		s.signal(syscall.SIGKILL)
		s.wait(5 * time.Second)
		t.Fatal("toolhost did not exit within 15 s of SIGTERM")
	}
	t.Logf("run answered and host exited %.2fs after the run began (SIGTERM at 0.2 s)", time.Since(start).Seconds())
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	out := s.stdout.String()
	if !strings.Contains(out, "shutting down: finishing runs in flight") || !strings.HasSuffix(out, "stopped\n") {
		t.Errorf("shutdown output:\n%s", out)
	}
	if left := waitGone(kids, 3*time.Second); len(left) > 0 {
		t.Errorf("plugin processes %v still alive after the host exited", left)
	}
}

// TestSIGTERMWhileRunsArrive: SIGTERM while clients keep sending
// non-blocking and blocking runs. Every answer is a 200, a 202, a 429 when
// the queue is full (the clients then back off) or a 503 (or the
// connection is refused once the listener is closed), the host
// exits 0 promptly, and after a restart every run that got a 202 has run
// to its end: a graceful stop leaves nothing to mark interrupted.
func TestSIGTERMWhileRunsArrive(t *testing.T) {
	opts := serveOpts{LogLevel: "warn", Config: serveConfig{Top: "queue {\n  size    = 1000\n  workers = 4\n}"}}
	s := startServe(t, opts)
	opts.DataDir = s.DataDir
	type answer struct {
		status int
		runID  string
		body   []byte
	}
	var (
		mu      sync.Mutex
		answers []answer
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for c := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path, body := "/v1/actions/testkit.noop/run?blocking=false", `{}`
				if (c+i)%4 == 0 {
					path, body = "/v1/actions/testkit.echo/run", `{"text":"x"}`
				}
				r, err := s.try("POST", path, body)
				if err != nil {
					if s.isExited() {
						return
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
				a := answer{status: r.Status, body: r.Body}
				var env struct {
					Data struct {
						RunID string `json:"run_id"`
					} `json:"data"`
				}
				if json.Unmarshal(r.Body, &env) == nil {
					a.runID = env.Data.RunID
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				if r.Status == 429 {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.stopped = true
	sent := time.Now()
	if err := syscall.Kill(s.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, exited := s.wait(15 * time.Second)
	took := time.Since(sent)
	close(stop)
	wg.Wait()
	if !exited {
		s.signal(syscall.SIGKILL)
		s.wait(5 * time.Second)
		t.Fatalf("toolhost did not exit within 15 s of SIGTERM while runs were arriving")
	}
	counts := map[int]int{}
	for _, a := range answers {
		counts[a.status]++
		if a.status != 200 && a.status != 202 && a.status != 429 && a.status != 503 {
			t.Errorf("answer %d during shutdown: %s", a.status, a.body)
		}
	}
	t.Logf("answers by status %v; exit %d %s after SIGTERM", counts, code, took.Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit code %d", code)
	}
	if took > 5*time.Second {
		t.Errorf("shutdown took %s with only no-op runs in flight", took)
	}

	s2 := startServe(t, opts)
	if m := regexp.MustCompile(`\d+ run\(s\) were in progress`).FindString(s2.stdout.String()); m != "" {
		t.Errorf("after a graceful stop the restart says: %s", m)
	}
	for _, a := range answers {
		if a.runID == "" || (a.status != 200 && a.status != 202) {
			continue
		}
		r := s2.do("GET", "/v1/runs/"+a.runID, "")
		if r.Status != 200 {
			t.Errorf("run %s (answered %d) not in history: %d %s", a.runID, a.status, r.Status, r.Body)
			continue
		}
		if st := r.Data(t)["status"]; st != "succeeded" {
			t.Errorf("run %s (answered %d) is %v after a graceful stop: %s", a.runID, a.status, st, r.Body)
		}
	}
}

// TestFirstStartKeyAndDataDirLock: a first start without TOOLHOST_API_KEY
// prints a th_ key that works; a second serve on the same data dir fails
// fast naming the first one's pid; a restart prints no new key and the
// first one still works.
func TestFirstStartKeyAndDataDirLock(t *testing.T) {
	cfg := serveConfig{NoTestkit: true}
	s := startServe(t, serveOpts{Config: cfg, NoEnvKey: true})
	out := s.stdout.String()
	if !strings.HasPrefix(s.Key, "th_") || len(s.Key) < 3+22 {
		t.Fatalf("no th_ key in the first start's output:\n%s", out)
	}
	if !strings.Contains(out, "toolhost key create") {
		t.Errorf("no line on how to make more keys:\n%s", out)
	}
	wantStatus(t, s.do("GET", "/v1/verify-access", ""), 200)
	wantStatus(t, s.do("GET", "/v1/verify-access", "", "x-api-key", "", "Authorization", "Bearer "+s.Key), 200)
	r := s.do("GET", "/v1/verify-access", "", "x-api-key", testKey)
	wantStatus(t, r, 401) // TOOLHOST_API_KEY is not set for this server

	begin := time.Now()
	second := launch(t, serveOpts{Config: cfg, DataDir: s.DataDir, NoEnvKey: true})
	code, exited := second.wait(10 * time.Second)
	took := time.Since(begin)
	if !exited {
		t.Fatalf("second serve on the same data dir still running after 10 s:\n%s", second.stdout.String())
	}
	msg := second.stdout.String() + second.stderr.String()
	t.Logf("second serve exited %d after %s: %s", code, took.Round(time.Millisecond), strings.TrimSpace(msg))
	if code == 0 {
		t.Errorf("second serve exited 0")
	}
	if took > 3*time.Second {
		t.Errorf("second serve took %s to fail", took)
	}
	if want := fmt.Sprintf("in use by another toolhost (pid %d)", s.Pid); !strings.Contains(msg, want) {
		t.Errorf("second serve's message does not say %q:\n%s", want, msg)
	}
	wantStatus(t, s.do("GET", "/v1/verify-access", ""), 200) // the first is unharmed

	// db check needs the server stopped, and says so.
	if out, code := toolhostCmd(t, 30*time.Second, "db", "check", "--data-dir", s.DataDir); code == 0 || !strings.Contains(out, "stop") {
		t.Errorf("db check on a served data dir exited %d:\n%s", code, out)
	}

	// SIGINT stops it as gracefully as SIGTERM does.
	s.stopped = true
	s.signal(syscall.SIGINT)
	if code, exited := s.wait(15 * time.Second); !exited || code != 0 || !strings.HasSuffix(s.stdout.String(), "stopped\n") {
		s.signal(syscall.SIGKILL)
		t.Fatalf("after SIGINT: exited %v, code %d, output:\n%s", exited, code, s.stdout.String())
	}
	again := startServe(t, serveOpts{Config: cfg, DataDir: s.DataDir, NoEnvKey: true, Key: s.Key})
	if k := keyRe.FindString(again.stdout.String()); k != "" {
		t.Errorf("restart printed a key again: %s", again.stdout.String())
	}
	wantStatus(t, again.do("GET", "/v1/verify-access", ""), 200)
}

// TestHostSIGKILLLeavesNoPlugins: kill -9 of the host takes its plugin
// processes with it, even one busy in a run that ignores cancellation.
func TestHostSIGKILLLeavesNoPlugins(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{Slack: true}))
	kids := s.pluginPIDs(t, 2)
	r := s.do("POST", "/v1/actions/testkit.stubborn/run?blocking=false", `{"ms":20000}`)
	wantStatus(t, r, 202)
	waitStatus(t, s, r.Data(t)["run_id"].(string), "running", 5*time.Second)
	s.kill9(t)
	start := time.Now()
	if left := waitGone(kids, 3*time.Second); len(left) > 0 {
		for _, pid := range left {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("plugin pid %d (%s) alive 3 s after the host was killed", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	t.Logf("%d plugin processes gone %s after SIGKILL of the host", len(kids), time.Since(start).Round(time.Millisecond))
}

// waitStatus polls GET /v1/runs/{id} until the run has status.
func waitStatus(t *testing.T, s *proc, id, status string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := s.do("GET", "/v1/runs/"+id, "")
		wantStatus(t, r, 200)
		d := r.Data(t)
		if d["status"] == status {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s is %v after %s, want %s", id, d["status"], timeout, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRateLimitFromConfig: rate_limit in plugins.hcl reaches the server:
// past the burst, a run answers 429 with Retry-After; reads go on.
func TestRateLimitFromConfig(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{Top: "rate_limit {\n  runs_per_second = 0.2\n  burst = 1\n}"}))
	wantStatus(t, s.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
	r := s.do("POST", "/v1/actions/testkit.noop/run", `{}`)
	wantStatus(t, r, 429)
	if code, _ := r.ErrorOf(t); code != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Errorf("429: %s (Retry-After %q)", r.Body, r.Header.Get("Retry-After"))
	}
	wantStatus(t, s.do("GET", "/v1/runs", ""), 200)
}
