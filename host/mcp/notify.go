package mcp

import (
	"context"
	"encoding/json"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
)

// notifier turns a run's events into MCP notifications on the request's
// stream: run.progress → notifications/progress (only when the client
// sent a progressToken), run.log → notifications/message (the SDK drops
// lines below the client's logging level).
type notifier struct {
	ctx      context.Context
	req      *gomcp.CallToolRequest
	runID    string
	token    any
	relay    bool // relay a hosted MCP server's notifications as it sent them
	progress float64
	steps    int
}

func (n *notifier) event(e domain.Event) {
	if e.Type != "run.progress" && e.Type != "run.log" {
		return
	}
	var pe domain.PluginEvent
	if json.Unmarshal(e.Data, &pe) != nil || (n.relay && n.relayed(e.Type, pe)) {
		return
	}
	if e.Type == "run.progress" {
		n.progressed(pe)
		return
	}
	data := map[string]any{"message": pe.Message, "run_id": n.runID}
	if len(pe.Fields) > 0 {
		data["fields"] = pe.Fields
	}
	_ = n.req.Session.Log(n.ctx, &gomcp.LoggingMessageParams{Level: logLevel(pe.Level), Logger: loggerName(n.req), Data: data})
}

// progressed sends a progress notification. MCP wants progress to grow:
// a fraction is sent as progress of a total of 1; a report without one
// counts steps (no total); a value that does not grow is not sent.
func (n *notifier) progressed(pe domain.PluginEvent) {
	if n.token == nil {
		return
	}
	p := &gomcp.ProgressNotificationParams{ProgressToken: n.token, Message: pe.Message}
	if pe.Fraction != nil {
		if *pe.Fraction <= n.progress && n.steps > 0 {
			return
		}
		p.Progress, p.Total = *pe.Fraction, 1
		n.progress = *pe.Fraction
	} else {
		p.Progress = float64(n.steps + 1)
	}
	n.steps++
	_ = n.req.Session.NotifyProgress(n.ctx, p)
}

// logLevel maps the plugin's (hclog) level to MCP's (syslog) levels.
func logLevel(l string) gomcp.LoggingLevel {
	switch l {
	case "trace", "debug":
		return "debug"
	case "warn", "warning":
		return "warning"
	case "error":
		return "error"
	}
	return "info"
}

func loggerName(req *gomcp.CallToolRequest) string {
	if req.Params != nil {
		return req.Params.Name
	}
	return ""
}
