// Package assistanttest is a scripted OpenAI-compatible chat completions
// server on 127.0.0.1 for tests: it plays the replies it was given, in
// order, as JSON or as streamed chat.completion.chunk events (whichever the
// request asks for), and records every request so tests can check the
// tools offered, the messages in order and the tool results fed back.
package assistanttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Call is a tool call a reply makes.
type Call struct {
	ID        string // "call_<n>" when empty
	Name      string
	Arguments string // raw, so tests can send malformed JSON
}

// Reply is one scripted answer.
type Reply struct {
	Content string
	Calls   []Call
	// Chunks splits Content for a streamed answer; by default it goes out
	// word by word.
	Chunks []string
	// Status, when set, answers with this HTTP status and Body.
	Status int
	Body   string
	// Delay holds the answer back (until the client gives up, if longer).
	Delay time.Duration
	// Check runs on the request before the answer goes out.
	Check func(t testing.TB, r Request)
}

// Request is a recorded chat completions request.
type Request struct {
	Model      string          `json:"model"`
	Messages   []Message       `json:"messages"`
	Tools      []Tool          `json:"tools"`
	ToolChoice json.RawMessage `json:"tool_choice"`
	Stream     bool            `json:"stream"`
	MaxTokens  int             `json:"max_tokens"`
	Auth       string          `json:"-"`
	Raw        []byte          `json:"-"`
}

// Message is one message of a request.
type Message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls"`
	ToolCallID string     `json:"tool_call_id"`
}

// Text is the message's content as text.
func (m Message) Text() string {
	switch c := m.Content.(type) {
	case string:
		return c
	case nil:
		return ""
	}
	raw, _ := json.Marshal(m.Content)
	return string(raw)
}

// ToolCall is an assistant message's tool call.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Tool is an offered tool.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

// ToolNames lists the offered tools' names.
func (r Request) ToolNames() []string {
	var out []string
	for _, t := range r.Tools {
		out = append(out, t.Function.Name)
	}
	return out
}

// Roles lists the messages' roles in order.
func (r Request) Roles() []string {
	var out []string
	for _, m := range r.Messages {
		out = append(out, m.Role)
	}
	return out
}

// Server is the fake model server.
type Server struct {
	// URL is the base URL for a model block: http://127.0.0.1:port/v1.
	URL string
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	replies  []Reply
	requests []Request
	calls    int
}

// New starts a server that t closes at its end.
func New(t testing.TB) *Server {
	s := &Server{t: t}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Push appends replies to the script.
func (s *Server) Push(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Requests returns the requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Left is how many scripted replies have not been played.
func (s *Server) Left() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.replies)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		s.t.Errorf("fake model: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil {
		s.t.Errorf("fake model: request is not JSON: %v: %s", err, raw)
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	req.Raw, req.Auth = raw, r.Header.Get("Authorization")
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var rep Reply
	ok := len(s.replies) > 0
	if ok {
		rep, s.replies = s.replies[0], s.replies[1:]
	}
	s.calls++
	n := s.calls
	s.mu.Unlock()
	if !ok {
		s.t.Errorf("fake model: request %d has no scripted reply: %s", n, raw)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]any{"message": "no scripted reply"}})
		return
	}
	if rep.Check != nil {
		rep.Check(s.t, req)
	}
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if rep.Status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasPrefix(strings.TrimSpace(rep.Body), "{") {
			w.Header().Set("Content-Type", "text/plain")
		}
		w.WriteHeader(rep.Status)
		io.WriteString(w, rep.Body)
		return
	}
	for i := range rep.Calls {
		if rep.Calls[i].ID == "" {
			rep.Calls[i].ID = fmt.Sprintf("call_%d_%d", n, i)
		}
	}
	if req.Stream {
		s.stream(w, req, rep, n)
		return
	}
	msg := map[string]any{"role": "assistant", "content": rep.Content}
	finish := "stop"
	if len(rep.Calls) > 0 {
		var tcs []map[string]any
		for _, c := range rep.Calls {
			tcs = append(tcs, map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Name, "arguments": c.Arguments}})
		}
		msg["tool_calls"] = tcs
		finish = "tool_calls"
		if rep.Content == "" {
			msg["content"] = nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}

func (s *Server) stream(w http.ResponseWriter, req Request, rep Reply, n int) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	id := fmt.Sprintf("chatcmpl-%d", n)
	send := func(delta map[string]any, finish any) {
		chunk := map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		raw, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", raw)
		if fl != nil {
			fl.Flush()
		}
		time.Sleep(2 * time.Millisecond)
	}
	send(map[string]any{"role": "assistant", "content": ""}, nil)
	chunks := rep.Chunks
	if chunks == nil && rep.Content != "" {
		words := strings.SplitAfter(rep.Content, " ")
		chunks = words
	}
	for _, c := range chunks {
		send(map[string]any{"content": c}, nil)
	}
	for i, c := range rep.Calls {
		half := len(c.Arguments) / 2
		send(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": c.ID, "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": c.Arguments[:half]}}}}, nil)
		send(map[string]any{"tool_calls": []any{map[string]any{"index": i,
			"function": map[string]any{"arguments": c.Arguments[half:]}}}}, nil)
	}
	finish := "stop"
	if len(rep.Calls) > 0 {
		finish = "tool_calls"
	}
	send(map[string]any{}, finish)
	usage, _ := json.Marshal(map[string]any{"id": id, "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{}, "usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
	fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", usage)
	if fl != nil {
		fl.Flush()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
