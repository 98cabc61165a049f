package api

import (
	"encoding/json"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
)

type pluginView struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Version     string `json:"version"`
	Status      string `json:"status"`
	Reason      string `json:"reason,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	// Transport is "stdio" or "http" for a hosted MCP server.
	Transport string `json:"transport,omitempty"`
	Restarts  int    `json:"restarts"`
}

type pluginDetail struct {
	pluginView
	ConfigurationParameters []manifest.ConfigParam `json:"configurationParameters"`
	Actions                 []actionView           `json:"actions"`
}

type actionView struct {
	ID               string           `json:"id"`
	Key              string           `json:"key"`
	Alias            string           `json:"alias"`
	Title            string           `json:"title"`
	Description      string           `json:"description"`
	Type             string           `json:"type"`
	PluginID         string           `json:"pluginId"`
	InputParameters  []manifest.Param `json:"inputParameters"`
	OutputParameters []manifest.Param `json:"outputParameters"`
	InputSchema      json.RawMessage  `json:"inputSchema"`
	OutputSchema     json.RawMessage  `json:"outputSchema"`
}

func viewPlugin(p *core.PluginEntry) pluginView {
	in := p.Info()
	v := pluginView{ID: p.ID, Key: p.Name, Title: p.Name, Status: string(in.Status), Reason: in.Reason, SHA256: in.SHA256,
		Transport: in.Transport, Restarts: in.Restarts}
	if m := p.Manifest; m != nil {
		v.Title, v.Description, v.Version = m.Title, m.Description, m.Version
	}
	return v
}

func viewPluginDetail(p *core.PluginEntry) pluginDetail {
	d := pluginDetail{pluginView: viewPlugin(p), ConfigurationParameters: []manifest.ConfigParam{}, Actions: []actionView{}}
	if p.Manifest != nil {
		d.ConfigurationParameters = append(d.ConfigurationParameters, p.Manifest.Config...)
	}
	for _, a := range p.Actions {
		d.Actions = append(d.Actions, viewAction(a))
	}
	return d
}

func viewAction(a *core.Action) actionView {
	v := actionView{
		ID: a.ID, Key: a.Key, Alias: a.Alias, Title: a.Title, Description: a.Description, Type: a.Type,
		PluginID: a.Plugin.ID, InputParameters: a.Input.Params(), OutputParameters: []manifest.Param{},
		InputSchema: a.Input.Raw, OutputSchema: a.Output,
	}
	if out, err := manifest.ParseSchema(a.Output); err == nil {
		v.OutputParameters = out.Params()
	}
	return v
}

// runView is a run as the API shows it: the typed client's Run, so the
// two cannot drift apart.
type runView = client.Run

func viewRun(r *domain.Run, withLogs bool) runView {
	v := runView{
		ID: r.ID, Object: "run", Kind: r.Kind, ActionID: r.ActionID, Action: r.ActionKey, PluginID: r.PluginID,
		ThreadID: r.ThreadID, ParentRunID: r.ParentRunID, Status: r.Status, Input: r.Input, Output: r.Output,
		Details: r.Extra, Source: r.Source, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: r.DurationMS, KeyName: r.KeyName, IdempotencyKey: r.IdempotencyKey, LogsDropped: r.EventsDropped,
	}
	if r.Error != nil {
		v.Error = &client.RunError{Code: r.Error.Code, Message: r.Error.Message}
	}
	if withLogs {
		for _, e := range r.Events {
			if e.Type != "run.log" {
				continue
			}
			var l client.LogLine
			if json.Unmarshal(e.Data, &l) == nil {
				l.At = e.At
				v.Logs = append(v.Logs, l)
			}
		}
	}
	return v
}

// listView is one page of a list.
type listView[T any] = client.List[T]
