package domain

import (
	"slices"
	"time"
)

// The scopes an API key can hold. Each door's route or method needs one.
const (
	ScopeRead  = "read"  // read actions, plugins, runs, threads and messages
	ScopeRun   = "run"   // run actions and assistants, cancel runs, write threads and messages
	ScopeAdmin = "admin" // refresh plugins, manage keys; see every key's runs and threads
	ScopeAudit = "audit" // read every key's runs and threads (read alone shows a key its own)
)

// Scopes are all the scopes, in the order they are listed.
var Scopes = []string{ScopeRead, ScopeRun, ScopeAdmin, ScopeAudit}

// DefaultScopes are what a key made without a list of scopes holds (and
// what a key stored before keys had scopes holds).
var DefaultScopes = []string{ScopeRead, ScopeRun, ScopeAdmin}

// APIKey is a stored API key. Only its SHA-256 digest is kept.
type APIKey struct {
	// ID identifies the key for ever: a key revoked and made again under
	// the same name has a new ID. Keys stored before ids had none and are
	// known by "name:" + Name (see Identity).
	ID         string     `json:"id,omitempty"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters, for people to tell keys apart
	Digest     []byte     `json:"digest"`
	Scopes     []string   `json:"scopes,omitempty"` // none: every scope (keys made before scopes)
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Identity is what a key's records (idempotency, ownership) are scoped by:
// its ID, or for a key stored before ids, its name.
func (k *APIKey) Identity() string {
	if k.ID != "" {
		return k.ID
	}
	return "name:" + k.Name
}

// Allows reports whether the key holds scope. A key stored before keys had
// scopes holds them all.
func (k *APIKey) Allows(scope string) bool {
	return slices.Contains(k.Held(), scope)
}

// Held lists the scopes the key holds, as Allows reads them.
func (k *APIKey) Held() []string {
	if len(k.Scopes) == 0 {
		return slices.Clone(DefaultScopes)
	}
	return k.Scopes
}

// BootstrapKeyName is the name of the key TOOLHOST_API_KEY gives; no
// stored key may take it.
const BootstrapKeyName = "bootstrap"

// BootstrapKey is the key TOOLHOST_API_KEY gives: every scope, and an
// identity no stored key can have.
func BootstrapKey() *APIKey {
	return &APIKey{ID: "bootstrap", Name: BootstrapKeyName, Scopes: Scopes}
}

// Caller is who asks for a run: the key's identity, its name (recorded
// on the run, shown in history) and the scopes it holds.
type Caller struct {
	KeyID   string
	KeyName string
	Scopes  []string
}

// SeesAll reports whether the caller may see every key's runs and
// threads (admin or audit), not only its own.
func (c Caller) SeesAll() bool {
	return slices.Contains(c.Scopes, ScopeAdmin) || slices.Contains(c.Scopes, ScopeAudit)
}

// Owns reports whether the caller may see and change what the key with
// identity keyID made.
func (c Caller) Owns(keyID string) bool { return c.SeesAll() || (keyID != "" && keyID == c.KeyID) }

// CallerOf is the caller a key makes.
func CallerOf(k *APIKey) Caller {
	return Caller{KeyID: k.Identity(), KeyName: k.Name, Scopes: k.Held()}
}
