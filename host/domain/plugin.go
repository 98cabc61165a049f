package domain

import (
	"encoding/json"
	"time"
)

// PluginRecord is an installed plugin.
type PluginRecord struct {
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	SHA256      string            `json:"sha256"`
	Version     string            `json:"version"`
	Manifest    json.RawMessage   `json:"manifest,omitempty"`
	Config      map[string]string `json:"config,omitempty"` // plain in memory; secret values sealed at rest
	SecretKeys  []string          `json:"secret_keys,omitempty"`
	InstalledAt time.Time         `json:"installed_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// PluginStatus is where a plugin is in its life.
type PluginStatus string

// Plugin statuses.
const (
	PluginStarting      PluginStatus = "starting"
	PluginReady         PluginStatus = "ready"
	PluginIdle          PluginStatus = "idle" // lazy: manifest known, process not started yet
	PluginMisconfigured PluginStatus = "misconfigured"
	PluginRestarting    PluginStatus = "restarting"
	PluginFailed        PluginStatus = "failed"
	PluginStopped       PluginStatus = "stopped"
)

// PluginInfo is a snapshot of a plugin for listings and health.
type PluginInfo struct {
	Name     string       `json:"name"`
	Path     string       `json:"path"`
	SHA256   string       `json:"sha256,omitempty"`
	Status   PluginStatus `json:"status"`
	Reason   string       `json:"reason,omitempty"`
	PID      int          `json:"pid,omitempty"`
	Restarts int          `json:"restarts"`
	// Transport is how a hosted MCP server is reached ("stdio" or
	// "http"); empty for Go plugins.
	Transport string `json:"transport,omitempty"`
}

// Invocation is one action for an executor to run.
type Invocation struct {
	RunID   string
	Action  string // the action's key within its plugin
	Input   []byte // checked input, as the plugin receives it
	OnEvent func(PluginEvent)
}

// PluginEvent is a log line or a progress report from a running action.
type PluginEvent struct {
	Kind     string          `json:"-"` // "log" or "progress"
	Level    string          `json:"level,omitempty"`
	Message  string          `json:"message"`
	Fields   json.RawMessage `json:"fields,omitempty"`
	Fraction *float64        `json:"fraction,omitempty"`
	Time     time.Time       `json:"time"`
}
