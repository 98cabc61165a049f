package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/api"
	"github.com/toolhost/toolhost/host/core"
)

func TestAuthMessagesExactly(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/actions", "", "x-api-key", "")
	e.wantStatus(r, 401)
	if msg := r.ErrorMessage(t); msg != "API key is not provided in the x-api-key request header." {
		t.Fatalf("missing-key message %q", msg)
	}
	r = e.do("GET", "/v1/actions", "", "x-api-key", "wrong")
	e.wantStatus(r, 401)
	if msg := r.ErrorMessage(t); msg != "API key is not valid." {
		t.Fatalf("wrong-key message %q", msg)
	}
	e.wantStatus(e.do("GET", "/v1/verify-access", "", "x-api-key", "", "Authorization", "Bearer "+testKey), 200)
	e.wantStatus(e.do("GET", "/v1/verify-access", "", "x-api-key", "", "Authorization", "Bearer nope"), 401)
	for _, public := range []string{"/", "/health", "/v1/actions/specs/openapi"} {
		e.wantStatus(e.do("GET", public, "", "x-api-key", ""), 200)
	}
}

func TestStoredKeyAuthenticatesAndIsRecordedOnRuns(t *testing.T) {
	e := newEnv(t)
	plain, _, err := e.db.Keys().CreateKey(context.Background(), "ci-bot")
	if err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/v1/actions/testkit.noop/run", `{}`, "x-api-key", plain)
	e.wantStatus(r, 200)
	id := r.JSON(t)["data"].(map[string]any)["run_id"].(string)
	run := e.do("GET", "/v1/runs/"+id, "").JSON(t)["data"].(map[string]any)
	if run["key_name"] != "ci-bot" || run["status"] != "succeeded" {
		t.Fatalf("run record %v", run)
	}
	e.db.Keys().RevokeKey(context.Background(), "ci-bot")
	e.wantStatus(e.do("GET", "/v1/actions", "", "x-api-key", plain), 401)
}

func TestNotFoundAndMethodNotAllowedAreEnvelopes(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/actions/CA000000000000000000000000000000", 404},
		{"POST", "/v1/actions/nope.nothing/run", 404},
		{"GET", "/v1/plugins/CP000000000000000000000000000000", 404},
		{"GET", "/no/such/route", 404},
		{"GET", "/v1/no/such/route", 404},
		{"GET", "/v1/runs/run_01NOPE", 404},
		{"DELETE", "/v1/actions", 405},
		{"GET", "/v1/actions/testkit.noop/run", 405},
		{"POST", "/health", 405},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, "")
		if r.Status != c.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %s, want %d JSON", c.method, c.path, r.Status, r.Header.Get("Content-Type"), c.status)
			continue
		}
		if r.JSON(t)["status"] != "error" || r.ErrorMessage(t) == "" {
			t.Errorf("%s %s: not an error envelope: %s", c.method, c.path, r.Body)
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	e := newEnv(t, envOptions{maxBody: 1024})
	r := e.do("POST", "/v1/actions/testkit.echo/run", `{"text":"`+strings.Repeat("a", 2000)+`"}`)
	e.wantStatus(r, 413)
	if r.ErrorCode(t) != "request_too_large" {
		t.Fatal(string(r.Body))
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, body string
		want       []string
	}{
		{"missing", `{"input":{}}`, []string{"text", "is required"}},
		{"extra", `{"text":"a","colour":"red"}`, []string{"colour", "not a known parameter"}},
		{"wrong type", `{"input":{"text":5}}`, []string{"text", "must be string"}},
		{"several at once", `{"s":1,"n":"x","i":2.5,"b":"yes","zz":0}`, []string{"s", "n", "i", "b", "zz"}},
		{"array body", `[1,2]`, []string{"JSON object", "array"}},
		{"string body", `"hi"`, []string{"JSON object", "string"}},
		{"invalid JSON", `{"text":`, []string{"not valid JSON"}},
		{"empty body", ``, []string{"body is empty"}},
		{"input not object", `{"input":"x"}`, []string{"input", "object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/v1/actions/testkit.echo/run"
			if c.name == "several at once" {
				path = "/v1/actions/testkit.typed/run"
			}
			r := e.do("POST", path, c.body)
			e.wantStatus(r, 400)
			msg := r.ErrorMessage(t)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not name %q", msg, w)
				}
			}
		})
	}
	runs, _, _ := e.db.Runs().ListRuns(context.Background(), storeFilter(), storePage())
	if len(runs) != 0 {
		t.Fatalf("rejected input left %d run records", len(runs))
	}
}

func TestBothBodyFormsAndAlias(t *testing.T) {
	e := newEnv(t)
	id := core.ActionID("testkit", "echo")
	for _, c := range []struct{ path, body string }{
		{"/v1/actions/" + id + "/run", `{"input":{"text":"connery"}}`},
		{"/v1/actions/" + id + "/run", `{"text":"connery"}`},
		{"/v1/actions/testkit.echo/run", `{"text":"connery"}`},
	} {
		r := e.do("POST", c.path, c.body)
		e.wantStatus(r, 200)
		data := r.JSON(t)["data"].(map[string]any)
		if data["output"].(map[string]any)["text"] != "connery" {
			t.Fatalf("%s %s: %s", c.path, c.body, r.Body)
		}
		used := data["used"].(map[string]any)
		if used["actionId"] != id || !strings.HasPrefix(data["run_id"].(string), "run_") {
			t.Fatalf("used/run_id: %s", r.Body)
		}
	}
}

func TestConneryStringCoercion(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/actions/testkit.typed/run", `{"input":{"s":"x","n":"2.5","i":"10","b":"true"}}`)
	e.wantStatus(r, 200)
	out := r.JSON(t)["data"].(map[string]any)["output"].(map[string]any)
	if out["n"] != 2.5 || out["i"] != float64(10) || out["b"] != true {
		t.Fatalf("coerced output %v", out)
	}
	for _, bad := range []string{`{"s":"x","n":"2.5x","i":"1","b":"true"}`, `{"s":"x","n":"1","i":"1.5","b":"true"}`, `{"s":"x","n":"1","i":"1","b":"TRUE"}`, `{"s":1,"n":"1","i":"1","b":"true"}`} {
		r := e.do("POST", "/v1/actions/testkit.typed/run", bad)
		e.wantStatus(r, 400)
	}
}

// TestLangChainConneryService does what LangChain's ConneryService does:
// list actions, read the fields it reads, run with {"input":...} and read
// data.output, and on failure read error.message.
func TestLangChainConneryService(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Status string `json:"status"`
		Data   []struct {
			ID              string `json:"id"`
			Title           string `json:"title"`
			Description     string `json:"description"`
			InputParameters []struct {
				Key         string `json:"key"`
				Title       string `json:"title"`
				Description string `json:"description"`
				Type        string `json:"type"`
				Validation  struct {
					Required bool `json:"required"`
				} `json:"validation"`
			} `json:"inputParameters"`
		} `json:"data"`
	}
	r := e.do("GET", "/v1/actions", "")
	e.wantStatus(r, 200)
	if err := json.Unmarshal(r.Body, &list); err != nil || list.Status != "success" {
		t.Fatalf("list: %v %s", err, r.Body)
	}
	var echoID string
	for _, a := range list.Data {
		if a.Title == "Echo" {
			echoID = a.ID
			if len(a.InputParameters) != 2 || a.InputParameters[0].Key != "text" || !a.InputParameters[0].Validation.Required ||
				a.InputParameters[0].Title != "Text" || a.InputParameters[0].Description != "Text to echo." || a.InputParameters[1].Validation.Required {
				t.Fatalf("echo parameters %+v", a.InputParameters)
			}
		}
	}
	if echoID == "" {
		t.Fatal("echo not listed")
	}
	var run struct {
		Data struct {
			Output map[string]any `json:"output"`
		} `json:"data"`
	}
	r = e.do("POST", "/v1/actions/"+echoID+"/run", `{"input":{"text":"from langchain"}}`)
	json.Unmarshal(r.Body, &run)
	if run.Data.Output["text"] != "from langchain" {
		t.Fatalf("run: %s", r.Body)
	}
	var failed struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	r = e.do("POST", "/v1/actions/testkit.fail/run", `{"input":{}}`)
	json.Unmarshal(r.Body, &failed)
	if r.Status != 500 || failed.Error.Message != "[Action execution error] the thing failed" {
		t.Fatalf("failure: %d %s", r.Status, r.Body)
	}
}

func TestOpenAIFunctionsShape(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/actions/specs/openai-functions", "")
	e.wantStatus(r, 200)
	var specs []json.RawMessage
	if err := json.Unmarshal(r.Body, &specs); err != nil {
		t.Fatalf("not a raw array: %s", r.Body)
	}
	want := `{"description":"Echo: Returns its input.","name":"` + core.ActionID("testkit", "echo") + `","parameters":{"type":"object","properties":{"text":{"type":"string","description":"Text: Text to echo."},"secret":{"type":"string","description":"Secret: Never stored."}},"required":["text"]}}`
	found := false
	for _, s := range specs {
		if strings.Contains(string(s), `"Echo: Returns its input."`) {
			found = true
			if string(s) != want {
				t.Fatalf("echo spec\n got %s\nwant %s", s, want)
			}
		}
	}
	if !found || len(specs) < 10 {
		t.Fatalf("specs: %d, echo found %v", len(specs), found)
	}
}

func TestPluginRoutesShowNoConfigValues(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/plugins", "")
	e.wantStatus(r, 200)
	pid := core.PluginID("testkit")
	if !strings.Contains(string(r.Body), pid) {
		t.Fatalf("plugins: %s", r.Body)
	}
	for _, ref := range []string{pid, "testkit"} {
		d := e.do("GET", "/v1/plugins/"+ref, "")
		e.wantStatus(d, 200)
		if strings.Contains(string(d.Body), "s3cr3t-config-token") || !strings.Contains(string(d.Body), `"configurationParameters"`) {
			t.Fatalf("plugin detail: %s", d.Body)
		}
	}
	h := e.do("GET", "/health", "", "x-api-key", "")
	if strings.Contains(string(h.Body), "s3cr3t") || strings.Contains(string(h.Body), e.dir) {
		t.Fatalf("health leaks: %s", h.Body)
	}
}

func TestSecretInputIsRedactedEverywhere(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/actions/testkit.echo/run", `{"text":"hi","secret":"hunter2"}`)
	e.wantStatus(r, 200)
	data := r.JSON(t)["data"].(map[string]any)
	if strings.Contains(string(mustMarshal(data["used"])), "hunter2") {
		t.Fatalf("used echoes the secret: %s", r.Body)
	}
	run := e.do("GET", "/v1/runs/"+data["run_id"].(string), "")
	if strings.Contains(string(run.Body), "hunter2") || !strings.Contains(string(run.Body), "[redacted]") {
		t.Fatalf("history: %s", run.Body)
	}
}

func TestOutputNotMatchingSchemaFailsTheRun(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/actions/testkit.badOutput/run", `{}`)
	e.wantStatus(r, 500)
	if r.ErrorCode(t) != "output_invalid" || !strings.Contains(r.ErrorMessage(t), "value") {
		t.Fatalf("%s", r.Body)
	}
}

func TestPluginCrashDuringRequestIs502(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/actions/testkit.crash/run", `{"ms":20}`)
	e.wantStatus(r, 502)
	if r.ErrorCode(t) != "plugin_unavailable" {
		t.Fatal(string(r.Body))
	}
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
	// Health shows the plugin as it is now, not as it was when listed.
	health := e.do("GET", "/health", "").JSON(t)["data"].(map[string]any)
	p := health["plugins"].([]any)[0].(map[string]any)
	if p["restarts"] != float64(1) || p["status"] != "ready" {
		t.Fatalf("health after a crash: %v", p)
	}
}

func TestRequestIDAndCORS(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/actions", "", "X-Request-Id", "abc-123")
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("request id not echoed: %v", r.Header)
	}
	if e.do("GET", "/", "").Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id made")
	}
	pre := e.do("OPTIONS", "/v1/actions", "", "Origin", "https://app.example", "Access-Control-Request-Method", "GET")
	if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
	}
	other := e.do("GET", "/v1/actions", "", "Origin", "https://evil.example")
	if other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an unlisted origin")
	}
}

func TestRefreshKeepsServing(t *testing.T) {
	e := newEnv(t)
	e.wantStatus(e.do("GET", "/v1/admin/plugins/refresh", ""), 200)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestAccessLogNamesRequestAndKey: at debug level each request is logged
// with its request id and the name of the key that authenticated it.
func TestAccessLogNamesRequestAndKey(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Debug, JSONFormat: true})
	h := api.NewServer(api.Deps{Runner: e.runner, Keys: e.db.Keys(), Threads: e.db.Threads(), Logger: logger}, api.Config{BootstrapKey: testKey})
	req := httptest.NewRequest("GET", "/v1/verify-access", nil)
	req.Header.Set("x-api-key", testKey)
	req.Header.Set("X-Request-Id", "abc-123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["@message"] != "request" || line["request_id"] != "abc-123" || line["key"] != "bootstrap" || line["status"] != float64(200) {
		t.Fatalf("access log line %s", buf.String())
	}
}

// TestScopes: a key holding some scopes gets 403, naming the missing
// scope, on every route that needs another one, and passes auth on the
// routes its scopes cover; the admin API makes keys with scopes and
// refuses an unknown one by name.
func TestScopes(t *testing.T) {
	e := newEnv(t)
	keys := map[string]string{}
	for _, scopes := range [][]string{{"read"}, {"run"}, {"admin"}, {"read", "run"}} {
		name := strings.Join(scopes, "-")
		plain, _, err := e.db.Keys().CreateKey(context.Background(), name, scopes...)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = plain
	}
	routes := []struct{ method, path, body, scope string }{
		{"GET", "/v1/verify-access", "", "read"},
		{"GET", "/v1/actions", "", "read"},
		{"GET", "/v1/plugins", "", "read"},
		{"GET", "/v1/runs", "", "read"},
		{"GET", "/v1/threads", "", "read"},
		{"GET", "/v1/actions/specs/openai-functions", "", "read"},
		{"POST", "/v1/actions/testkit.noop/run", `{}`, "run"},
		{"POST", "/v1/runs/run_01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", "", "run"},
		{"POST", "/v1/threads", `{}`, "run"},
		{"DELETE", "/v1/threads/thread_01ARZ3NDEKTSV4RRFFQ69G5FAV", "", "run"},
		{"GET", "/v1/admin/keys", "", "admin"},
		{"POST", "/v1/admin/plugins/refresh", "", "admin"},
	}
	for _, rt := range routes {
		for name, key := range keys {
			r := e.do(rt.method, rt.path, rt.body, "x-api-key", key)
			allowed := strings.Contains(name, rt.scope)
			switch {
			case allowed && (r.Status == 401 || r.Status == 403):
				t.Errorf("%s %s with a %s key: %d %s", rt.method, rt.path, name, r.Status, r.Body)
			case !allowed && r.Status != 403:
				t.Errorf("%s %s with a %s key: %d, want 403", rt.method, rt.path, name, r.Status)
			case !allowed:
				if msg := r.ErrorMessage(t); r.ErrorCode(t) != "forbidden" || !strings.Contains(msg, `"`+rt.scope+`" scope`) || !strings.Contains(msg, `"`+name+`"`) {
					t.Errorf("403 envelope: %s", r.Body)
				}
			}
		}
	}

	r := e.do("POST", "/v1/admin/keys", `{"name":"ro","scopes":["read"]}`)
	e.wantStatus(r, 201)
	data := r.JSON(t)["data"].(map[string]any)
	if got := data["scopes"].([]any); len(got) != 1 || got[0] != "read" || !strings.HasPrefix(data["key"].(string), "th_") {
		t.Fatalf("created key: %s", r.Body)
	}
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`, "x-api-key", data["key"].(string)), 403)
	r = e.do("POST", "/v1/admin/keys", `{"name":"bad","scopes":["read","root"]}`)
	e.wantStatus(r, 400)
	if msg := r.ErrorMessage(t); !strings.Contains(msg, "scopes") || !strings.Contains(msg, `"root"`) {
		t.Fatalf("unknown scope message %q", msg)
	}
	e.wantStatus(e.do("POST", "/v1/admin/keys", `{"name":"all"}`), 201)
	r = e.do("GET", "/v1/admin/keys", "")
	e.wantStatus(r, 200)
	for _, want := range []string{`{"name":"all","prefix":"th_`, `"scopes":["read","run","admin"]`, `{"name":"ro","prefix":"th_`} {
		if !strings.Contains(string(r.Body), want) {
			t.Fatalf("key list lacks %s: %s", want, r.Body)
		}
	}
}

// TestRunRateLimit: each key gets runBurst requests on run routes at
// once, then 429 rate_limited with Retry-After; reads are not limited and
// another key has its own bucket.
func TestRunRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{runsPerSecond: 0.5, runBurst: 2})
	other, _, err := e.db.Keys().CreateKey(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`), 200)
	e.wantStatus(e.do("POST", "/v1/threads", `{}`), 200)
	r := e.do("POST", "/v1/actions/testkit.noop/run", `{}`)
	e.wantStatus(r, 429)
	if r.ErrorCode(t) != "rate_limited" || !strings.Contains(r.ErrorMessage(t), `"bootstrap"`) {
		t.Fatalf("429 envelope: %s", r.Body)
	}
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	e.wantStatus(e.do("GET", "/v1/actions", ""), 200)
	e.wantStatus(e.do("POST", "/v1/actions/testkit.noop/run", `{}`, "x-api-key", other), 200)
	if runs, _, err := e.db.Runs().ListRuns(context.Background(), storeFilter(), storePage()); err != nil || len(runs) != 2 {
		t.Fatalf("%d runs recorded (%v); the refused request must not make one", len(runs), err)
	}
}

// TestSlowBodyTimesOut: a client that sends its headers and part of its
// body, then stalls, gets a 400 once the body timeout passes instead of
// holding the request open; a run that lasts longer than that timeout,
// its body read in time, is not cut short by it.
func TestSlowBodyTimesOut(t *testing.T) {
	e := newEnv(t, envOptions{bodyTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/actions/testkit.noop/run HTTP/1.1\r\nHost: x\r\nx-api-key: %s\r\nContent-Length: 100\r\n\r\n{\"a\":", testKey)
	start := time.Now()
	conn.SetReadDeadline(start.Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body after %s: %v", time.Since(start), err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(body), "could not read the request body: it did not arrive in time") || time.Since(start) > 5*time.Second {
		t.Fatalf("stalled body: %d %s after %s", res.StatusCode, body, time.Since(start))
	}
	r := e.do("POST", "/v1/actions/testkit.sleep/run", `{"ms":900}`)
	e.wantStatus(r, 200)
	r = e.do("POST", "/v1/actions/testkit.sleep/run?stream=true", `{"ms":900}`)
	if !strings.Contains(string(r.Body), "event: run.succeeded") {
		t.Fatalf("a stream longer than the body timeout: %s", r.Body)
	}
}

// TestAccessLogAtInfo: with AccessLog on, each request is logged at info
// level with its route template and the run's id.
func TestAccessLogAtInfo(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info, JSONFormat: true})
	h := api.NewServer(api.Deps{Runner: e.runner, Keys: e.db.Keys(), Threads: e.db.Threads(), Logger: logger}, api.Config{BootstrapKey: testKey, AccessLog: true})
	req := httptest.NewRequest("POST", "/v1/actions/testkit.noop/run", strings.NewReader(`{}`))
	req.Header.Set("x-api-key", testKey)
	h.ServeHTTP(httptest.NewRecorder(), req)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["@level"] != "info" || line["route"] != "/v1/actions/{actionId}/run" || !strings.HasPrefix(fmt.Sprint(line["run_id"]), "run_") || line["key"] != "bootstrap" {
		t.Fatalf("access log line %s", buf.String())
	}
	// Off (the default) at info level: nothing.
	buf.Reset()
	h = api.NewServer(api.Deps{Runner: e.runner, Keys: e.db.Keys(), Threads: e.db.Threads(), Logger: logger}, api.Config{BootstrapKey: testKey})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/health", nil))
	if buf.Len() != 0 {
		t.Errorf("access log off, yet: %s", buf.String())
	}
}
