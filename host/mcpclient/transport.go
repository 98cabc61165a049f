package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/supervisor"
)

// stdioTransport is the go-sdk's CommandTransport, with the command
// started isolated on a launcher thread and the connection watched for
// answers to cancelled calls.
type stdioTransport struct {
	cmd *exec.Cmd
	l   *live
}

func (t *stdioTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	inner := &mcp.CommandTransport{Command: t.cmd, TerminateDuration: t.l.terminate}
	var (
		conn mcp.Connection
		err  error
	)
	supervisor.StartOnLauncherThread(func() { conn, err = inner.Connect(ctx) })
	if err != nil {
		return nil, err
	}
	t.l.setPID(t.cmd.Process.Pid)
	return &watchConn{Connection: conn, l: t.l}, nil
}

// httpTransport is the go-sdk's Streamable HTTP client transport, with the
// connection watched as for stdio.
type httpTransport struct {
	inner mcp.Transport
	l     *live
}

func (t *httpTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	conn, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &watchConn{Connection: conn, l: t.l, detach: true}, nil
}

// watchConn notes which JSON-RPC id each tools/call went out with (by its
// progress token) and when an answer to it comes back, so a call that was
// cancelled can be seen to end.
//
// Over HTTP (detach), a tools/call's answer comes on the POST's own
// stream, which the SDK ends when the call's context does: the server's
// answer to a cancelled call could never be seen. So the POST lives as
// long as the connection instead, and Write returns when the call's
// context ends; the stream ends when the answer comes or the connection is
// dropped.
type watchConn struct {
	mcp.Connection
	l      *live
	detach bool
}

func (c *watchConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != "tools/call" || !req.ID.IsValid() {
		return c.Connection.Write(ctx, msg)
	}
	var p struct {
		Meta struct {
			Token any `json:"progressToken"`
		} `json:"_meta"`
	}
	if json.Unmarshal(req.Params, &p) == nil && p.Meta.Token != nil {
		c.l.sent(fmt.Sprint(p.Meta.Token), fmt.Sprint(req.ID.Raw()))
	}
	if !c.detach {
		return c.Connection.Write(ctx, msg)
	}
	done := make(chan error, 1)
	go func() {
		done <- c.Connection.Write(lifeContext{Context: context.WithoutCancel(ctx), life: c.l.life}, msg)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lifeContext has the values of a call's context and the lifetime of the
// connection.
type lifeContext struct {
	context.Context
	life context.Context
}

func (c lifeContext) Deadline() (time.Time, bool) { return c.life.Deadline() }
func (c lifeContext) Done() <-chan struct{}       { return c.life.Done() }
func (c lifeContext) Err() error                  { return c.life.Err() }

func (c *watchConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	switch m := msg.(type) {
	case *jsonrpc.Response:
		c.l.answered(fmt.Sprint(m.ID.Raw()))
	case *jsonrpc.Request:
		if !m.ID.IsValid() && (m.Method == "notifications/progress" || m.Method == "notifications/message") {
			c.l.notes.read.Add(1)
		}
	}
	return msg, err
}

// headerTransport adds the configured headers to every request.
type headerTransport struct {
	base    http.RoundTripper
	headers map[string]string
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t.headers {
		r.Header.Set(k, v)
	}
	return t.base.RoundTrip(r)
}
