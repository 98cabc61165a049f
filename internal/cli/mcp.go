package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/internal/bearer"
)

// mcpCmd is `toolhost mcp`: a stdio MCP server for clients that only
// launch local commands (Claude Desktop's mcpServers), forwarding every
// message to the server's /mcp (or /mcp/{plugin}) over Streamable HTTP
// with TOOLHOST_API_KEY, and every answer and notification back.
func mcpCmd(e *env, args []string) error {
	if len(args) > 0 && args[0] == "probe" {
		return mcpProbe(e, args[1:])
	}
	fs := newFlags(e, "mcp", "[-plugin NAME]")
	plugin := fs.String("plugin", "", "serve one plugin's tools under their own names (/mcp/NAME)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key := e.getenv("TOOLHOST_API_KEY")
	if key == "" {
		return fail(ExitAuth, "TOOLHOST_API_KEY is not set: give the bridge an API key with the read and run scopes (`toolhost key create NAME`)")
	}
	endpoint := strings.TrimRight(envOr(e, "TOOLHOST_URL", DefaultURL), "/") + "/mcp"
	if *plugin != "" {
		endpoint += "/" + url.PathEscape(*plugin)
	}
	if _, err := url.ParseRequestURI(endpoint); err != nil {
		return fail(ExitUsage, "bad TOOLHOST_URL: %v", err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	stdin := e.stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	local, err := (&gomcp.IOTransport{Reader: io.NopCloser(stdin), Writer: nopWriteCloser{e.stdout}}).Connect(ctx)
	if err != nil {
		return fail(ExitFailed, "stdio: %v", err)
	}
	defer local.Close()
	remote, err := (&gomcp.StreamableClientTransport{Endpoint: endpoint, DisableStandaloneSSE: true,
		HTTPClient: &http.Client{Transport: bearer.Transport{Key: key, Next: http.DefaultTransport}}}).Connect(ctx)
	if err != nil {
		return fail(ExitUnreachable, "cannot reach %s: %v", endpoint, err)
	}
	defer remote.Close()
	done := make(chan error, 2)
	go func() { done <- forward(ctx, local, remote, local) }()
	go func() { done <- forward(ctx, remote, local, nil) }()
	err = <-done
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil // the client closed stdin: the session is over
	}
	return fail(ExitFailed, "mcp bridge to %s: %v", endpoint, err)
}

// forward copies messages from one connection to the other until from
// ends. A request the server refuses (401, 403, unreachable) is answered
// to the client as a JSON-RPC error on reply, so the client sees why.
func forward(ctx context.Context, from, to, reply gomcp.Connection) error {
	for {
		msg, err := from.Read(ctx)
		if err != nil {
			return err
		}
		if err := to.Write(ctx, msg); err != nil {
			req, ok := msg.(*jsonrpc.Request)
			if reply == nil || !ok || !req.ID.IsValid() {
				if reply == nil {
					return err
				}
				continue // a notification that could not be sent
			}
			resp := &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: -32001, Message: fmt.Sprintf("toolhost: %v", err)}}
			if werr := reply.Write(ctx, resp); werr != nil {
				return werr
			}
		}
	}
}

// bearer sends the API key with every request.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
