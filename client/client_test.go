package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/client"
)

func TestResponseErr(t *testing.T) {
	cases := []struct {
		status   int
		body     string
		wantCode string
		wantMsg  string // "" with wantCode "": no error
	}{
		{200, `{"status":"success","data":{"a":1}}`, "", ""},
		{200, `[{"type":"function"}]`, "", ""}, // a raw answer (OpenAI specs)
		{200, `<html>`, "", "not a toolhost answer"},
		{404, `{"status":"error","error":{"code":"not_found","message":"run x not found"}}`, "not_found", "run x not found"},
		{502, `bad gateway`, "", "HTTP 502 Bad Gateway (not a toolhost answer): bad gateway"},
		{500, ``, "", "HTTP 500 Internal Server Error with an empty body"},
		{400, `{"status":"error","error":{"code":"invalid_input","message":"invalid input: a: required","fields":[{"field":"a","message":"required"}],"run_id":"run_1"}}`, "invalid_input", "invalid input: a: required"},
	}
	for _, c := range cases {
		r := &client.Response{Status: c.status, Body: []byte(c.body)}
		err := r.Err()
		if c.wantMsg == "" {
			if err != nil {
				t.Errorf("%d %s: %v", c.status, c.body, err)
			}
			continue
		}
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != c.status || ae.Code != c.wantCode || !strings.Contains(ae.Message, c.wantMsg) {
			t.Errorf("%d %s: got %#v", c.status, c.body, err)
		}
	}
}

func TestCallDecodesDataAndErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(401)
			io.WriteString(w, `{"status":"error","error":{"code":"unauthorized","message":"no key"}}`)
			return
		}
		switch r.URL.Path {
		case "/v1/runs/run_1":
			io.WriteString(w, `{"status":"success","data":{"id":"run_1","status":"succeeded","source":"http","error":null}}`)
		case "/v1/actions/kit.fail/run":
			w.WriteHeader(500)
			io.WriteString(w, `{"status":"error","error":{"code":"action_failed","message":"[Action execution error] no","run_id":"run_2"}}`)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"status":"error","error":{"code":"not_found","message":"no route"}}`)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	run, err := client.New(srv.URL, "k").GetRun(ctx, "run_1")
	if err != nil || run.ID != "run_1" || run.Status != "succeeded" || run.Source != "http" {
		t.Fatalf("GetRun = %+v, %v", run, err)
	}
	_, err = client.New(srv.URL, "k").RunAction(ctx, "kit.fail", map[string]any{}, client.RunOptions{IdempotencyKey: "i"})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != "action_failed" || ae.RunID != "run_2" {
		t.Fatalf("RunAction = %#v", err)
	}
	if _, err := client.New(srv.URL, "").GetRun(ctx, "run_1"); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("no key: %v", err)
	}
	if _, err := client.New("127.0.0.1:1", "k").GetRun(ctx, "x"); err == nil || errors.As(err, &ae) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestEventReader(t *testing.T) {
	stream := ": hello\n\nid: 1\nevent: run.created\ndata: {\"id\":\"run_1\"}\n\n" +
		"id: 2\r\nevent: run.log\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\n"
	r := client.NewEventReader(io.NopCloser(strings.NewReader(stream)))
	e1, err1 := r.Next()
	e2, err2 := r.Next()
	_, err3 := r.Next()
	if err1 != nil || e1.ID != 1 || e1.Type != "run.created" || string(e1.Data) != `{"id":"run_1"}` {
		t.Errorf("first: %+v %v", e1, err1)
	}
	if err2 != nil || e2.ID != 2 || e2.Type != "run.log" || string(e2.Data) != "{\"a\":\n1}" {
		t.Errorf("second: %+v %v", e2, err2)
	}
	if err3 != io.EOF {
		t.Errorf("after [DONE]: %v", err3)
	}
	cut := client.NewEventReader(io.NopCloser(strings.NewReader("id: 1\nevent: run.created\ndata: {}\n\nid: 2\n")))
	if _, err := cut.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := cut.Next(); err != io.ErrUnexpectedEOF {
		t.Errorf("a stream cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}

// FuzzEventReader: any bytes from a server end in EOF, an unexpected EOF
// or an error, never a panic or an endless loop.
func FuzzEventReader(f *testing.F) {
	f.Add([]byte("id: 1\nevent: run.log\ndata: {}\n\ndata: [DONE]\n\n"))
	f.Add([]byte(":\n\n\n\ndata:\ndata:\n\n"))
	f.Add([]byte("id: x\nevent:\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := client.NewEventReader(io.NopCloser(strings.NewReader(string(b))))
		for i := 0; i <= len(b)+1; i++ {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatalf("more events than bytes from %q", b)
	})
}
