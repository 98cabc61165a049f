package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// threadCmd is "toolhost thread new|say|show": talk to an assistant on a
// thread of a running server.
func threadCmd(e *env, args []string) error {
	return subcommand(e, "thread", args, map[string]func(*env, []string) error{
		"new":  threadNew,
		"say":  threadSay,
		"show": threadShow,
	})
}

type thMessage struct {
	ID         string            `json:"id"`
	CreatedAt  int64             `json:"created_at"`
	ThreadID   string            `json:"thread_id"`
	Role       string            `json:"role"`
	Content    string            `json:"content"`
	RunID      string            `json:"run_id"`
	ToolCalls  []thToolCall      `json:"tool_calls"`
	ToolCallID string            `json:"tool_call_id"`
	Metadata   map[string]string `json:"metadata"`
}

type thToolCall struct {
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type thThread struct {
	ID        string            `json:"id"`
	CreatedAt int64             `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
}

type metadataFlag map[string]string

func (m metadataFlag) String() string { return "" }

func (m metadataFlag) Set(v string) error {
	k, val, found := strings.Cut(v, "=")
	if !found || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	m[k] = val
	return nil
}

func threadNew(e *env, args []string) error {
	fs := newFlags(e, "thread new", "[--metadata key=value]... [--json]")
	md := metadataFlag{}
	fs.Var(md, "metadata", "metadata key=value (repeatable)")
	asJSON := fs.Bool("json", false, "print the thread as JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fail(ExitUsage, "thread new takes no arguments (got %q); use --metadata key=value", pos[0])
	}
	var t thThread
	if err := newClient(e).call(http.MethodPost, "/v1/threads", map[string]any{"metadata": map[string]string(md)}, &t); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, t)
	}
	fmt.Fprintln(e.stdout, t.ID)
	return nil
}

func threadSay(e *env, args []string) error {
	fs := newFlags(e, "thread say", `THREAD_ID "message" [--model NAME] [--instructions TEXT] [--actions ID,ID] [--max-steps N]`)
	model := fs.String("model", "", "model block name in plugins.hcl (default: the first)")
	instructions := fs.String("instructions", "", "instructions for the assistant (sent as the system message)")
	actions := fs.String("actions", "", "comma-separated action ids or plugin.actionKey names the assistant may use (default: all)")
	maxSteps := fs.Int("max-steps", 0, "model calls at most (default 8)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return fail(ExitUsage, "thread say needs a thread id and a message")
	}
	threadID, text := pos[0], pos[1]
	if strings.TrimSpace(text) == "" {
		return fail(ExitUsage, "the message is empty")
	}
	c := newClient(e)
	defer c.close()
	path := "/v1/threads/" + url.PathEscape(threadID)
	if err := c.call(http.MethodPost, path+"/messages", map[string]any{"role": "user", "content": text}, nil); err != nil {
		return err
	}
	body := map[string]any{"stream": true}
	if *model != "" {
		body["model"] = *model
	}
	if *instructions != "" {
		body["instructions"] = *instructions
	}
	if *actions != "" {
		var list []string
		for _, a := range strings.Split(*actions, ",") {
			if a = strings.TrimSpace(a); a != "" {
				list = append(list, a)
			}
		}
		body["actions"] = list
	}
	if *maxSteps != 0 {
		body["max_steps"] = *maxSteps
	}
	res, err := c.stream(e.ctx, http.MethodPost, path+"/runs", body, http.Header{"Accept": {"text/event-stream"}})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	p := &sayPrinter{w: e.stdout, streamed: map[string]bool{}, calls: map[string]thToolCall{}}
	done, err := readSSE(res.Body, func(ev sseEvent) { p.event(ev.event, ev.data) })
	p.endLine()
	if err != nil && !done && !p.finished {
		if e.ctx.Err() != nil {
			return fail(ExitFailed, "interrupted; the run goes on on the server (toolhost runs show %s)", res.Header.Get("X-Run-Id"))
		}
		return fail(ExitFailed, "reading the stream: %v", err)
	}
	if p.failure != nil {
		return p.failure
	}
	if !p.finished {
		return fail(ExitFailed, "the stream ended before the run did (run %s)", res.Header.Get("X-Run-Id"))
	}
	return nil
}

// sayPrinter prints a streamed thread run: the assistant's words as they
// come, and one line per tool call.
type sayPrinter struct {
	w        io.Writer
	midLine  bool
	streamed map[string]bool       // message ids whose content came as deltas
	calls    map[string]thToolCall // tool call id -> call
	finished bool
	failure  error
}

func (p *sayPrinter) print(s string) {
	if s == "" {
		return
	}
	fmt.Fprint(p.w, s)
	p.midLine = !strings.HasSuffix(s, "\n")
	if f, ok := p.w.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}
}

func (p *sayPrinter) endLine() {
	if p.midLine {
		fmt.Fprintln(p.w)
		p.midLine = false
	}
}

func (p *sayPrinter) event(name string, raw []byte) {
	var ev struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &ev) != nil {
		return
	}
	switch name {
	case "thread.message.delta":
		var d struct {
			ID    string `json:"id"`
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		}
		if json.Unmarshal(ev.Data, &d) == nil && d.Delta.Content != "" {
			p.streamed[d.ID] = true
			p.print(d.Delta.Content)
		}
	case "thread.message.created":
		var m thMessage
		if json.Unmarshal(ev.Data, &m) != nil || m.Role != "assistant" {
			return
		}
		if !p.streamed[m.ID] {
			p.print(m.Content)
		}
		p.endLine()
		for _, c := range m.ToolCalls {
			p.calls[c.ID] = c
		}
	case "thread.run.step":
		var st struct {
			Type      string `json:"type"`
			Status    string `json:"status"`
			ToolCalls []struct {
				ID     string `json:"id"`
				Name   string `json:"name"`
				Action string `json:"action"`
				Status string `json:"status"`
				Error  string `json:"error"`
				RunID  string `json:"run_id"`
			} `json:"tool_calls"`
		}
		if json.Unmarshal(ev.Data, &st) != nil || st.Type != "tool_calls" || st.Status != "completed" {
			return
		}
		for _, o := range st.ToolCalls {
			name := o.Action
			if name == "" {
				name = o.Name
			}
			line := fmt.Sprintf("[tool] %s %s → %s", name, thOneLine(p.calls[o.ID].Function.Arguments, 120), o.Status)
			if o.Error != "" {
				line += ": " + thOneLine(o.Error, 160)
			}
			p.endLine()
			p.print(line + "\n")
		}
	case "thread.run.requires_action":
		p.endLine()
		p.print("[the run waits for tool outputs from the client: POST /v1/threads/{id}/runs/{run_id}/submit_tool_outputs]\n")
		p.finished = true
	case "run.succeeded":
		p.finished = true
	case "run.failed", "run.cancelled", "run.timed_out", "run.expired":
		p.finished = true
		var s struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Error  struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(ev.Data, &s)
		msg := s.Error.Message
		if msg == "" {
			msg = "no reason given"
		}
		p.failure = fail(ExitFailed, "run %s %s: %s", s.ID, strings.TrimPrefix(name, "run."), msg)
	}
	return
}

func thOneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func threadShow(e *env, args []string) error {
	fs := newFlags(e, "thread show", "THREAD_ID [--json]")
	asJSON := fs.Bool("json", false, "print the messages as JSON")
	id, err := parseOneArg(fs, args, "thread id")
	if err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	path := "/v1/threads/" + url.PathEscape(id)
	var t thThread
	if err := c.call(http.MethodGet, path, nil, &t); err != nil {
		return err
	}
	var all []thMessage
	after := ""
	for {
		q := url.Values{"order": {"asc"}, "limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			List    []thMessage `json:"list"`
			HasMore bool        `json:"has_more"`
		}
		if err := c.call(http.MethodGet, path+"/messages?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		all = append(all, page.List...)
		if !page.HasMore || len(page.List) == 0 {
			break
		}
		after = page.List[len(page.List)-1].ID
	}
	if *asJSON {
		return printJSON(e.stdout, map[string]any{"thread": t, "messages": all})
	}
	w := e.stdout
	fmt.Fprintf(w, "thread %s, created %s", t.ID, time.Unix(t.CreatedAt, 0).Local().Format("2006-01-02 15:04:05"))
	if len(t.Metadata) > 0 {
		for _, k := range sortedKeys(t.Metadata) {
			fmt.Fprintf(w, ", %s=%s", k, t.Metadata[k])
		}
	}
	fmt.Fprintf(w, ", %d message(s)\n", len(all))
	for _, m := range all {
		fmt.Fprintln(w)
		when := time.Unix(m.CreatedAt, 0).Local().Format("15:04:05")
		switch m.Role {
		case "tool":
			fmt.Fprintf(w, "[%s] tool result (%s): %s\n", when, m.ToolCallID, thOneLine(m.Content, 400))
		default:
			if strings.TrimSpace(m.Content) != "" || len(m.ToolCalls) == 0 {
				fmt.Fprintf(w, "[%s] %s: %s\n", when, m.Role, m.Content)
			}
			for _, c := range m.ToolCalls {
				fmt.Fprintf(w, "[%s] %s calls %s %s (%s)\n", when, m.Role, c.Function.Name, thOneLine(c.Function.Arguments, 200), c.ID)
			}
		}
	}
	return nil
}
