// Package mcptools is the test MCP server's tools, served over stdio by
// internal/testplugins/mcpserver and over Streamable HTTP by tests.
package mcptools

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type echoIn struct {
	Text string `json:"text"`
}

type echoOut struct {
	Text string `json:"text"`
	Env  string `json:"env,omitempty"`
}

type waitIn struct {
	MS int `json:"ms"`
}

type stepsIn struct {
	Steps int `json:"steps"`
}

func schema(props string, required ...string) json.RawMessage {
	req, _ := json.Marshal(required)
	if required == nil {
		req = []byte("[]")
	}
	return json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{%s},"required":%s}`, props, req))
}

func args[T any](req *mcp.CallToolRequest) (T, error) {
	var v T
	err := json.Unmarshal(req.Params.Arguments, &v)
	return v, err
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// New is the test server: echo (structured, read-only), say_text (text
// only), fail (isError), progress (progress and log notifications), sleep
// (honours cancellation), stubborn (ignores it), whoami (its pid and a
// grandchild's), image, leak (says the SECRET_TOKEN env value), and
// add_tool (adds a tool: tools/list_changed); a resource test://hello
// (which says the SECRET_TOKEN env value too) and a prompt greet.
func New() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "testmcp", Title: "Test MCP server", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echoes the text.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
			return nil, echoOut{Text: in.Text, Env: os.Getenv("ECHO_ENV")}, nil
		})
	s.AddTool(&mcp.Tool{Name: "say_text", Description: "Says the text as text content.", InputSchema: schema(`"text":{"type":"string"}`, "text")},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in, err := args[echoIn](req)
			if err != nil {
				return nil, err
			}
			return text("said: " + in.Text), nil
		})
	s.AddTool(&mcp.Tool{Name: "fail", Description: "Fails with the text.", InputSchema: schema(`"text":{"type":"string"}`),
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true)}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in, _ := args[echoIn](req)
			r := text("it failed: " + in.Text)
			r.IsError = true
			return r, nil
		})
	s.AddTool(&mcp.Tool{Name: "progress", Description: "Reports progress.", InputSchema: schema(`"steps":{"type":"integer"}`, "steps")},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in, err := args[stepsIn](req)
			if err != nil {
				return nil, err
			}
			for i := 1; i <= in.Steps; i++ {
				if tok := req.Params.GetProgressToken(); tok != nil {
					_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok,
						Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("step %d", i)})
				}
				_ = req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "steps", Data: fmt.Sprintf("did step %d", i)})
				time.Sleep(20 * time.Millisecond)
			}
			return text(fmt.Sprintf("%d steps", in.Steps)), nil
		})
	s.AddTool(&mcp.Tool{Name: "sleep", Description: "Sleeps, stopping when cancelled.", InputSchema: schema(`"ms":{"type":"integer"}`, "ms")},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in, _ := args[waitIn](req)
			select {
			case <-time.After(time.Duration(in.MS) * time.Millisecond):
				return text("slept"), nil
			case <-ctx.Done():
				fmt.Fprintln(os.Stderr, "sleep: cancelled")
				return nil, ctx.Err()
			}
		})
	s.AddTool(&mcp.Tool{Name: "stubborn", Description: "Sleeps, ignoring cancellation.", InputSchema: schema(`"ms":{"type":"integer"}`, "ms")},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			in, _ := args[waitIn](req)
			time.Sleep(time.Duration(in.MS) * time.Millisecond)
			return text("slept anyway"), nil
		})
	s.AddTool(&mcp.Tool{Name: "whoami", Description: "Its pid, and a grandchild's.", InputSchema: schema("")},
		func(_ context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			child := exec.Command("sleep", "300")
			if err := child.Start(); err != nil {
				return nil, err
			}
			go func() { _ = child.Wait() }()
			return &mcp.CallToolResult{StructuredContent: map[string]int{"pid": os.Getpid(), "child": child.Process.Pid},
				Content: []mcp.Content{&mcp.TextContent{Text: "pids"}}}, nil
		})
	s.AddTool(&mcp.Tool{Name: "image", Description: "A tiny image.", InputSchema: schema("")},
		func(_ context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "a dot"},
				&mcp.ImageContent{MIMEType: "image/png", Data: []byte("\x89PNG\r\n\x1a\nfake")}}}, nil
		})
	s.AddTool(&mcp.Tool{Name: "leak", Description: "Says its secret.", InputSchema: schema("")},
		func(_ context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			fmt.Fprintln(os.Stderr, "the token is", os.Getenv("SECRET_TOKEN"))
			r := text("token " + os.Getenv("SECRET_TOKEN"))
			r.IsError = true
			return r, nil
		})
	s.AddTool(&mcp.Tool{Name: "add_tool", Description: "Adds the tool late_tool.", InputSchema: schema("")},
		func(_ context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			s.AddTool(&mcp.Tool{Name: "late_tool", Description: "Added late.", InputSchema: schema("")},
				func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return text("late"), nil })
			return text("added"), nil
		})
	s.AddResource(&mcp.Resource{URI: "test://hello", Name: "hello", MIMEType: "text/plain"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "hello, " + os.Getenv("SECRET_TOKEN")}}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}},
		func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Greet " + req.Params.Arguments["who"]}}}}, nil
		})
	return s
}

func ptr[T any](v T) *T { return &v }
