package core

import (
	"context"
	"encoding/json"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
)

// The interfaces below are what the core needs of the world. They are
// declared here, where they are used; the supervisor and the stores
// implement them without knowing the core. Every call takes a context and
// lists are pages with id cursors, so a store may be a remote database.

// Executor is what calls tools: the plugins it serves now. A plugin that
// is the same as last time must be the same value, so the catalog built
// from it can be kept.
type Executor interface {
	Plugins() []Plugin
}

// Plugin is one set of actions an Executor can run.
type Plugin interface {
	Name() string
	// Manifest is what the plugin said it offers; nil before it did.
	Manifest() *manifest.Plugin
	// Info is its state now (status, restarts, last error).
	Info() domain.PluginInfo
	// Run runs one action and returns its JSON output, or a *domain.Error.
	Run(ctx context.Context, inv domain.Invocation) ([]byte, error)
}

// RunStore keeps runs and their events. PutRun is called for every state a
// run must keep durably; a run is never changed once terminal.
type RunStore interface {
	PutRun(ctx context.Context, r *domain.Run) error
	GetRun(ctx context.Context, id string) (*domain.Run, error)
	ListRuns(ctx context.Context, f domain.RunFilter, p domain.Page) (runs []*domain.Run, hasMore bool, err error)
}

// HealthReporter is what a store may also implement: nil while it can
// record, else why not (a full disk, an unreachable database). The core
// refuses new runs while it is not nil, and asks again for each: a store
// is expected to retry and recover by itself.
type HealthReporter interface {
	Health() error
}

// DamageReporter is what a run store may also implement: what it found
// damaged and read around (records that do not decode, a damaged journal).
type DamageReporter interface {
	Damage() domain.StorageDamage
}

// PageLister is what a run store may also implement: ListRuns that names
// the damaged records it skipped.
type PageLister interface {
	ListRunsPage(ctx context.Context, f domain.RunFilter, p domain.Page) (domain.RunPage, error)
}

// ThreadStore keeps threads and their messages.
type ThreadStore interface {
	CreateThread(ctx context.Context, t *domain.Thread, msgs []*domain.Message) error
	GetThread(ctx context.Context, id string) (*domain.Thread, error)
	UpdateThreadMetadata(ctx context.Context, id string, md map[string]string) (*domain.Thread, error)
	DeleteThread(ctx context.Context, id string) error
	// ListThreads lists the threads of the key with identity owner, or
	// every thread when owner is "".
	ListThreads(ctx context.Context, owner string, p domain.Page) (threads []*domain.Thread, hasMore bool, err error)
	AddMessages(ctx context.Context, threadID string, msgs ...*domain.Message) error
	ListMessages(ctx context.Context, threadID string, p domain.Page) (msgs []*domain.Message, hasMore bool, err error)
	GetMessage(ctx context.Context, threadID, msgID string) (*domain.Message, error)
}

// KeyStore keeps API keys.
type KeyStore interface {
	CreateKey(ctx context.Context, name string, scopes ...string) (plaintext string, key *domain.APIKey, err error)
	ListKeys(ctx context.Context) ([]*domain.APIKey, error)
	CountKeys(ctx context.Context) (int, error)
	RevokeKey(ctx context.Context, name string) error
	Authenticate(ctx context.Context, plaintext string) (*domain.APIKey, error)
}

// IdempotencyStore remembers which run a request with an idempotency key
// made. BeginIdempotent claims rec.Key, or returns the record that holds
// it; FinishIdempotent links the claim to its run; AbandonIdempotent frees
// a claim whose request made no run.
type IdempotencyStore interface {
	BeginIdempotent(ctx context.Context, rec *domain.IdempotencyRecord) (existing *domain.IdempotencyRecord, err error)
	FinishIdempotent(ctx context.Context, key, runID string) error
	AbandonIdempotent(ctx context.Context, key string) error
}

// PromptFiller asks a model for an action's input from a prompt (the
// assistant service does).
type PromptFiller interface {
	FillInput(ctx context.Context, a *Action, prompt string) (map[string]json.RawMessage, error)
}
