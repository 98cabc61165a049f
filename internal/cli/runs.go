package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/toolhost/toolhost/client"
)

// pollInterval is how often runs tail (without an id) asks for new runs.
var pollInterval = 500 * time.Millisecond

func runsCmd(e *env, args []string) error {
	return subcommand(e, "runs", args, map[string]func(*env, []string) error{
		"list": runsList,
		"show": runsShow,
		"tail": runsTail,
	})
}

// runInfo is a run as the API shows it.
type runInfo struct{ client.Run }

func (r *runInfo) label() string {
	switch {
	case r.Action != "":
		return r.Action
	case r.ActionID != "":
		return r.ActionID
	case r.ThreadID != "":
		return r.Kind + " on " + r.ThreadID
	}
	return r.Kind
}

func (r *runInfo) errorCode() string {
	if r.Error == nil {
		return ""
	}
	return r.Error.Code
}

func (r *runInfo) duration() string {
	if r.DurationMS == 0 && r.FinishedAt == nil {
		return ""
	}
	return formatMS(r.DurationMS)
}

func formatMS(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", ms)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func runsList(e *env, args []string) error {
	fs := newFlags(e, "runs list", "[--action ID|plugin.key] [--plugin ID|name] [--status S] [--thread ID] [--limit N] [--after RUN_ID] [--json]")
	action := fs.String("action", "", "only runs of this action (id or plugin.actionKey)")
	plugin := fs.String("plugin", "", "only runs of this plugin (id or name)")
	status := fs.String("status", "", "only runs in this state (queued, running, succeeded, failed, cancelled, timed_out, ...)")
	thread := fs.String("thread", "", "only runs on this thread")
	limit := fs.Int("limit", 20, "how many runs (1-100)")
	after := fs.String("after", "", "continue after this run id (for the next page)")
	asc := fs.Bool("asc", false, "oldest first")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100 {
		return fail(ExitUsage, "--limit must be from 1 to 100")
	}
	q := url.Values{}
	for k, v := range map[string]string{"action_id": *action, "plugin_id": *plugin, "status": *status, "thread_id": *thread, "after": *after} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", strconv.Itoa(*limit))
	if *asc {
		q.Set("order", "asc")
	}
	c := newClient(e)
	defer c.close()
	var page struct {
		List    []runInfo `json:"list"`
		HasMore bool      `json:"has_more"`
	}
	raw, err := c.callRaw(http.MethodGet, "/v1/runs?"+q.Encode(), nil, &page)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, raw)
	}
	if len(page.List) == 0 {
		fmt.Fprintln(e.stdout, "no runs")
		return nil
	}
	t := newTable(e.stdout, "ID", "ACTION", "STATUS", "CREATED", "DURATION", "ERROR")
	for i := range page.List {
		r := &page.List[i]
		t.row(r.ID, r.label(), r.Status, localTime(r.CreatedAt), r.duration(), r.errorCode())
	}
	t.flush()
	if page.HasMore {
		fmt.Fprintf(e.stdout, "more: toolhost runs list --after %s\n", page.List[len(page.List)-1].ID)
	}
	return nil
}

func getRun(c *conn, id string) (*runInfo, json.RawMessage, error) {
	var r runInfo
	raw, err := c.callRaw(http.MethodGet, "/v1/runs/"+pathEscape(id), nil, &r)
	if err != nil {
		return nil, nil, err
	}
	return &r, raw, nil
}

func runsShow(e *env, args []string) error {
	fs := newFlags(e, "runs show", "RUN_ID [--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	id, err := parseOneArg(fs, args, "run id (see toolhost runs list)")
	if err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	r, raw, err := getRun(c, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, raw)
	}
	w := e.stdout
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-16s %s\n", name+":", value)
		}
	}
	field("id", r.ID)
	field("kind", r.Kind)
	if r.Action != "" {
		field("action", r.Action+" ("+r.ActionID+")")
	} else {
		field("action", r.ActionID)
	}
	field("plugin", r.PluginID)
	field("thread", r.ThreadID)
	field("parent run", r.ParentRunID)
	field("status", r.Status)
	field("created", localTime(r.CreatedAt))
	if r.StartedAt != nil {
		field("started", localTime(*r.StartedAt))
	}
	if r.FinishedAt != nil {
		field("finished", localTime(*r.FinishedAt))
	}
	field("duration", r.duration())
	field("key", r.KeyName)
	field("idempotency key", r.IdempotencyKey)
	if r.Error != nil {
		field("error", r.Error.Code+": "+r.Error.Message)
	}
	block := func(name string, raw json.RawMessage) {
		if len(raw) == 0 {
			return
		}
		var buf bytes.Buffer
		if json.Indent(&buf, raw, "  ", "  ") != nil {
			buf.Reset()
			buf.Write(raw)
		}
		fmt.Fprintf(w, "%s:\n  %s\n", name, buf.String())
	}
	block("input", r.Input)
	block("output", r.Output)
	block("details", r.Details)
	if len(r.Logs) > 0 || r.LogsDropped > 0 {
		fmt.Fprintln(w, "logs:")
		for _, l := range r.Logs {
			fmt.Fprintf(w, "  %s %-5s %s%s\n", l.At.Local().Format("15:04:05.000"), l.Level, l.Message, formatFields(l.Fields))
		}
		if r.LogsDropped > 0 {
			fmt.Fprintf(w, "  (%d more log lines were dropped)\n", r.LogsDropped)
		}
	}
	return nil
}

// formatFields renders a JSON object of log fields as " k=v k=v".
func formatFields(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := string(m[k])
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			v = s
			if strings.ContainsAny(s, " \t\"") || s == "" {
				v = strconv.Quote(s)
			}
		}
		fmt.Fprintf(&b, "  %s=%s", k, truncate(v, 200))
	}
	return b.String()
}

func runsTail(e *env, args []string) error {
	fs := newFlags(e, "runs tail", "[RUN_ID] [--action ID|plugin.key]")
	action := fs.String("action", "", "without a run id: only runs of this action")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	switch len(pos) {
	case 0:
		return followRuns(e, c, *action)
	case 1:
		return followRun(e, c, pos[0])
	}
	return fail(ExitUsage, "runs tail takes at most one run id")
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	id, event string
	data      []byte
}

// readSSE reads events from r and calls fn for each; it returns done=true
// after "data: [DONE]".
func readSSE(r io.Reader, fn func(sseEvent)) (done bool, err error) {
	er := client.NewEventReader(io.NopCloser(r))
	for {
		e, err := er.Next()
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		ev := sseEvent{event: e.Type, data: e.Data}
		if e.ID > 0 {
			ev.id = strconv.Itoa(e.ID)
		}
		fn(ev)
	}
}

// runEvent is the data of one run event.
type runEvent struct {
	Seq  int             `json:"seq"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// followRun prints a run's events until it ends, resuming after a dropped
// connection with Last-Event-ID.
func followRun(e *env, c *conn, id string) error {
	r, _, err := getRun(c, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "following %s (%s), %s\n", r.ID, r.label(), r.Status)
	p := &eventPrinter{e: e, c: c, runID: r.ID}
	if r.StartedAt != nil {
		p.started = *r.StartedAt
	}
	lastID := ""
	failures := 0
	for {
		h := http.Header{"Accept": {"text/event-stream"}}
		if lastID != "" {
			h.Set("Last-Event-ID", lastID)
		}
		resp, err := c.stream(e.ctx, http.MethodGet, "/v1/runs/"+pathEscape(r.ID)+"/events", nil, h)
		if err == nil {
			var done bool
			done, err = readSSE(resp.Body, func(ev sseEvent) {
				if ev.id != "" {
					lastID = ev.id
				}
				failures = 0
				p.print(ev)
			})
			resp.Body.Close()
			if done {
				return nil
			}
		}
		if e.ctx.Err() != nil {
			return nil
		}
		if code := exitCodeOf(err); code == ExitUsage || code == ExitAuth {
			return err
		}
		failures++
		if failures > 10 {
			return fail(ExitUnreachable, "lost the event stream of %s: %v", r.ID, err)
		}
		fmt.Fprintf(e.stderr, "toolhost: event stream interrupted (%v); resuming after event %s\n", err, orDash(lastID))
		select {
		case <-e.ctx.Done():
			return nil
		case <-time.After(time.Duration(failures) * 300 * time.Millisecond):
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// eventPrinter prints one readable line per run event.
type eventPrinter struct {
	e       *env
	c       *conn
	runID   string
	started time.Time
}

func (p *eventPrinter) print(ev sseEvent) {
	var re runEvent
	if json.Unmarshal(ev.data, &re) != nil {
		fmt.Fprintf(p.e.stdout, "%s %s\n", ev.event, truncate(string(ev.data), 300))
		return
	}
	at := re.At
	if at.IsZero() {
		at = time.Now()
	}
	ts := at.Local().Format("15:04:05.000")
	w := p.e.stdout
	switch ev.event {
	case "run.created":
		var s struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(re.Data, &s)
		fmt.Fprintf(w, "%s run.created  %s\n", ts, s.Status)
	case "run.running":
		var s struct {
			StartedAt time.Time `json:"started_at"`
		}
		if json.Unmarshal(re.Data, &s) == nil && !s.StartedAt.IsZero() {
			p.started = s.StartedAt
		}
		fmt.Fprintf(w, "%s run.running\n", ts)
	case "run.log":
		var l struct {
			Level   string          `json:"level"`
			Message string          `json:"message"`
			Fields  json.RawMessage `json:"fields"`
		}
		_ = json.Unmarshal(re.Data, &l)
		if l.Level == "" {
			l.Level = "info"
		}
		fmt.Fprintf(w, "%s run.log  %-5s %s%s\n", ts, l.Level, l.Message, formatFields(l.Fields))
	case "run.progress":
		var pr struct {
			Message  string   `json:"message"`
			Fraction *float64 `json:"fraction"`
		}
		_ = json.Unmarshal(re.Data, &pr)
		pct := ""
		if pr.Fraction != nil {
			pct = fmt.Sprintf("%3.0f%% ", *pr.Fraction*100)
		}
		fmt.Fprintf(w, "%s run.progress  %s%s\n", ts, pct, pr.Message)
	case "run.output":
		var buf bytes.Buffer
		if json.Compact(&buf, re.Data) != nil {
			buf.Reset()
			buf.Write(re.Data)
		}
		fmt.Fprintf(w, "%s run.output  %s\n", ts, truncate(buf.String(), 300))
	case "run.succeeded", "run.failed", "run.cancelled", "run.timed_out", "run.expired":
		var s struct {
			Error *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(re.Data, &s)
		line := fmt.Sprintf("%s %s", ts, ev.event)
		if d := p.duration(at); d != "" {
			line += " in " + d
		}
		if s.Error != nil {
			line += ": " + s.Error.Code + ": " + s.Error.Message
		}
		fmt.Fprintln(w, line)
	default:
		fmt.Fprintf(w, "%s %s  %s\n", ts, ev.event, truncate(string(re.Data), 300))
	}
}

// duration is the run's duration: from the recorded run when it can be
// read, else from the running event to the end event.
func (p *eventPrinter) duration(end time.Time) string {
	if r, _, err := getRun(p.c, p.runID); err == nil && r.FinishedAt != nil {
		return formatMS(r.DurationMS)
	}
	if !p.started.IsZero() && end.After(p.started) {
		return formatMS(float64(end.Sub(p.started).Microseconds()) / 1000)
	}
	return ""
}

// followRuns polls the run list and prints new runs and status changes
// until the context ends.
func followRuns(e *env, c *conn, action string) error {
	q := url.Values{"order": {"desc"}, "limit": {"100"}}
	if action != "" {
		q.Set("action_id", action)
	}
	path := "/v1/runs?" + q.Encode()
	poll := func() ([]runInfo, error) {
		var page struct {
			List []runInfo `json:"list"`
		}
		err := c.call(http.MethodGet, path, nil, &page)
		return page.List, err
	}
	list, err := poll()
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for _, r := range list {
		seen[r.ID] = r.Status
	}
	fmt.Fprintf(c.e.stderr, "following runs at %s (Ctrl-C to stop)\n", c.base)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case <-tick.C:
		}
		list, err := poll()
		if err != nil {
			if e.ctx.Err() != nil {
				return nil
			}
			if code := exitCodeOf(err); code == ExitAuth || code == ExitUsage {
				return err
			}
			if !failing {
				fmt.Fprintf(e.stderr, "toolhost: %v (still trying)\n", err)
				failing = true
			}
			continue
		}
		if failing {
			fmt.Fprintln(e.stderr, "toolhost: reconnected")
			failing = false
		}
		next := make(map[string]string, len(list))
		for i := len(list) - 1; i >= 0; i-- { // oldest first
			r := &list[i]
			next[r.ID] = r.Status
			old, known := seen[r.ID]
			if known && old == r.Status {
				continue
			}
			ts := time.Now().Format("15:04:05.000")
			line := fmt.Sprintf("%s %s %s %s", ts, r.ID, r.label(), r.Status)
			if known {
				line = fmt.Sprintf("%s %s %s %s -> %s", ts, r.ID, r.label(), old, r.Status)
			}
			if d := r.duration(); d != "" {
				line += " in " + d
			}
			if r.Error != nil {
				line += ": " + r.Error.Code + ": " + r.Error.Message
			}
			fmt.Fprintln(e.stdout, line)
		}
		seen = next
	}
}
