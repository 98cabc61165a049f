package api

import (
	"encoding/json"
	"time"

	"github.com/toolhost/toolhost/host"
	"github.com/toolhost/toolhost/host/store"
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

func viewPlugin(p *host.PluginEntry) pluginView {
	in := p.Info()
	v := pluginView{ID: p.ID, Key: p.Name, Title: p.Name, Status: string(in.Status), Reason: in.Reason, SHA256: in.SHA256}
	if m := p.Manifest; m != nil {
		v.Title, v.Description, v.Version = m.Title, m.Description, m.Version
	}
	return v
}

func viewPluginDetail(p *host.PluginEntry) pluginDetail {
	d := pluginDetail{pluginView: viewPlugin(p), ConfigurationParameters: []manifest.ConfigParam{}, Actions: []actionView{}}
	if p.Manifest != nil {
		d.ConfigurationParameters = append(d.ConfigurationParameters, p.Manifest.Config...)
	}
	for _, a := range p.Actions {
		d.Actions = append(d.Actions, viewAction(a))
	}
	return d
}

func viewAction(a *host.Action) actionView {
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

// runView is a run as the API shows it.
type runView struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Kind           string          `json:"kind"`
	ActionID       string          `json:"action_id,omitempty"`
	Action         string          `json:"action,omitempty"`
	PluginID       string          `json:"plugin_id,omitempty"`
	ThreadID       string          `json:"thread_id,omitempty"`
	ParentRunID    string          `json:"parent_run_id,omitempty"`
	Status         string          `json:"status"`
	Input          json.RawMessage `json:"input,omitempty"`
	Output         json.RawMessage `json:"output,omitempty"`
	Error          *store.RunError `json:"error,omitempty"`
	Logs           []logLine       `json:"logs,omitempty"`
	LogsDropped    int             `json:"logs_dropped,omitempty"`
	Extra          json.RawMessage `json:"details,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	DurationMS     float64         `json:"duration_ms,omitempty"`
	KeyName        string          `json:"key_name,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
}

type logLine struct {
	At      time.Time       `json:"at"`
	Level   string          `json:"level"`
	Message string          `json:"message"`
	Fields  json.RawMessage `json:"fields,omitempty"`
}

func viewRun(r *store.Run, withLogs bool) runView {
	v := runView{
		ID: r.ID, Object: "run", Kind: r.Kind, ActionID: r.ActionID, Action: r.ActionKey, PluginID: r.PluginID,
		ThreadID: r.ThreadID, ParentRunID: r.ParentRunID, Status: r.Status, Input: r.Input, Output: r.Output,
		Error: r.Error, Extra: r.Extra, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: r.DurationMS, KeyName: r.KeyName, IdempotencyKey: r.IdempotencyKey, LogsDropped: r.EventsDropped,
	}
	if withLogs {
		for _, e := range r.Events {
			if e.Type != "run.log" {
				continue
			}
			var l logLine
			if json.Unmarshal(e.Data, &l) == nil {
				l.At = e.At
				v.Logs = append(v.Logs, l)
			}
		}
	}
	return v
}

type listView[T any] struct {
	List    []T  `json:"list"`
	HasMore bool `json:"has_more"`
	// Damaged counts the records in the page's range left out because
	// they do not decode, and DamagedIDs names them (absent when none).
	Damaged    int      `json:"damaged,omitempty"`
	DamagedIDs []string `json:"damaged_ids,omitempty"`
}
