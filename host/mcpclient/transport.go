package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"

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

// watchConn notes which JSON-RPC id each tools/call went out with (by its
// progress token) and when an answer to it comes back, so a call that was
// cancelled can be seen to end.
type watchConn struct {
	mcp.Connection
	l *live
}

func (c *watchConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if req, ok := msg.(*jsonrpc.Request); ok && req.Method == "tools/call" && req.ID.IsValid() {
		var p struct {
			Meta struct {
				Token any `json:"progressToken"`
			} `json:"_meta"`
		}
		if json.Unmarshal(req.Params, &p) == nil && p.Meta.Token != nil {
			c.l.sent(fmt.Sprint(p.Meta.Token), fmt.Sprint(req.ID.Raw()))
		}
	}
	return c.Connection.Write(ctx, msg)
}

func (c *watchConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := c.Connection.Read(ctx)
	if resp, ok := msg.(*jsonrpc.Response); ok {
		c.l.answered(fmt.Sprint(resp.ID.Raw()))
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
