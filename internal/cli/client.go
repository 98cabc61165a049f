package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/toolhost/toolhost/client"
)

// DefaultURL is where the admin commands look for a server when TOOLHOST_URL
// is not set.
const DefaultURL = "http://127.0.0.1:4201"

// defaultRequestTimeout bounds one admin request (not streams, not blocking
// action runs, which have their own).
const defaultRequestTimeout = 30 * time.Second

// conn talks to a running toolhost over its HTTP API, through the typed
// client, and turns what goes wrong into the commands' exit codes.
type conn struct {
	e       *env
	api     *client.Client
	base    string
	key     string
	http    *http.Client
	timeout time.Duration // per request; 0 means none (streams)
	// authHint, when set, replaces the advice given with a 401.
	authHint string
}

func newClient(e *env) *conn {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 0,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
	}
	h := &http.Client{Transport: tr}
	key := e.getenv("TOOLHOST_API_KEY")
	api := client.New(envOr(e, "TOOLHOST_URL", DefaultURL), key, client.WithHTTPClient(h), client.WithUserAgent("toolhost-cli/"+Version))
	return &conn{e: e, api: api, base: api.BaseURL(), key: key, http: h, timeout: defaultRequestTimeout}
}

// close releases idle connections.
func (c *conn) close() { c.api.CloseIdleConnections() }

// call sends a request and decodes the envelope's data into out (when out
// is not nil). Failures come back as exit errors with the codes of the
// command's contract.
func (c *conn) call(method, path string, body, out any) error {
	_, err := c.callRaw(method, path, body, out)
	return err
}

// callRaw is call that also returns the raw data.
func (c *conn) callRaw(method, path string, body, out any) (json.RawMessage, error) {
	ctx := c.e.ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	data, err := c.api.Call(ctx, method, path, body, out)
	return data, c.failure(err)
}

// failure maps the client's error to an exit error: an error answer by
// its status, anything else as a failure to reach the server.
func (c *conn) failure(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.Error
	if errors.As(err, &ae) {
		return c.statusError(ae)
	}
	if strings.HasPrefix(err.Error(), "unexpected answer") {
		return fail(ExitFailed, "%v", err)
	}
	return c.transportError(err)
}

// transportError maps a failure to reach the server.
func (c *conn) transportError(err error) error {
	if c.e.ctx.Err() != nil {
		return fail(ExitFailed, "interrupted")
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() || errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err) {
		return fail(ExitUnreachable, "toolhost at %s did not answer in time (%v). Is it running? Start it with `toolhost serve`, or set TOOLHOST_URL to where it runs.", c.base, err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fail(ExitUnreachable, "cannot reach toolhost at %s: connection refused. Start it with `toolhost serve`, or set TOOLHOST_URL to where it runs.", c.base)
	}
	return fail(ExitUnreachable, "cannot reach toolhost at %s: %v. Start it with `toolhost serve`, or set TOOLHOST_URL to where it runs.", c.base, err)
}

// statusError maps an error answer to an exit code.
func (c *conn) statusError(ae *client.Error) error {
	status := ae.Status
	msg := ae.Error()
	if len(ae.Fields) > 0 {
		// The message usually lists the fields too ("invalid input: a: x;
		// b: y"): keep its lead and give one field a line.
		if i := strings.Index(msg, ae.Fields[0].Field+": "); i > 0 && allFieldsIn(msg, ae) {
			msg = strings.TrimSpace(msg[:i])
		}
		for _, f := range ae.Fields {
			msg += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
		}
	}
	if ae.RunID != "" {
		msg += "\n(run " + ae.RunID + "; see `toolhost runs show " + ae.RunID + "`)"
	}
	switch {
	case status == http.StatusForbidden:
		return &exitError{code: ExitAuth, msg: msg + "\nuse a key with that scope (see `toolhost key list`; make one with `toolhost key create --name NAME --scopes ...`)"}
	case status == http.StatusUnauthorized:
		hint := "check TOOLHOST_API_KEY (make a key with `toolhost key create --name NAME`)"
		if c.key == "" {
			hint = "TOOLHOST_API_KEY is not set: set it to an API key (make one with `toolhost key create --name NAME`)"
		}
		if c.authHint != "" {
			hint = c.authHint
		}
		return &exitError{code: ExitAuth, msg: msg + "\n" + hint}
	case status == http.StatusTooManyRequests:
		return &exitError{code: ExitFailed, msg: msg + " (rate limited; try again shortly)"}
	case status >= 400 && status < 500:
		return &exitError{code: ExitUsage, msg: msg}
	default:
		return &exitError{code: ExitFailed, msg: msg}
	}
}

func allFieldsIn(msg string, ae *client.Error) bool {
	for _, f := range ae.Fields {
		if !strings.Contains(msg, f.Field+": "+f.Message) {
			return false
		}
	}
	return true
}

// exitCodeOf returns the exit code an error carries (ExitFailed for plain
// errors, ExitOK for nil).
func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitFailed
}

// stream sends a request whose answer is read incrementally (SSE). It has
// no overall timeout; the caller's context ends it.
func (c *conn) stream(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, error) {
	var h client.Header
	for k, vs := range header {
		for _, v := range vs {
			h = append(h, k, v)
		}
	}
	res, err := c.api.Stream(ctx, method, path, body, h)
	return res, c.failure(err)
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// Helpers shared by the admin commands.

// parseArgs parses flags that may come before, between or after the
// positional arguments ("run ID --input x" as well as "run --input x ID"),
// and returns the positional ones. After "--" everything is positional.
// parseNoArgs parses args like parseArgs for a command that takes flags
// only; a positional argument is a usage error.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fail(ExitUsage, "%s takes no arguments (got %q)", strings.TrimPrefix(fs.Name(), "toolhost "), pos)
	}
	return nil
}

// parseOneArg parses args like parseArgs and returns the one positional
// argument; without exactly one it fails with a usage error saying the
// command "needs exactly one " + what.
func parseOneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fail(ExitUsage, "%s needs exactly one %s", strings.TrimPrefix(fs.Name(), "toolhost "), what)
	}
	return pos[0], nil
}

func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printJSON writes v (or raw JSON) indented.
func printJSON(w io.Writer, v any) error {
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return fail(ExitFailed, "printing JSON: %v", err)
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cells[i])
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() { _ = t.tw.Flush() }

// localTime formats t for people, in local time.
func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// parseTime reads an RFC 3339 time ("" gives the zero time).
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
