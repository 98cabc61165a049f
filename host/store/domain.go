package store

import "github.com/toolhost/toolhost/host/domain"

// The records this store keeps are the domain's types; these names let
// the store's code read as it did when it held them itself.
type (
	Run               = domain.Run
	RunError          = domain.RunError
	Event             = domain.Event
	RunFilter         = domain.RunFilter
	Page              = domain.Page
	APIKey            = domain.APIKey
	PluginRecord      = domain.PluginRecord
	IdempotencyRecord = domain.IdempotencyRecord
	Thread            = domain.Thread
	Message           = domain.Message
)

// Run statuses, page limits and orders, id prefixes, scopes and metadata
// limits, as the domain defines them.
const (
	StatusQueued         = domain.StatusQueued
	StatusRunning        = domain.StatusRunning
	StatusRequiresAction = domain.StatusRequiresAction
	StatusSucceeded      = domain.StatusSucceeded
	StatusFailed         = domain.StatusFailed
	StatusCancelled      = domain.StatusCancelled
	StatusTimedOut       = domain.StatusTimedOut
	StatusExpired        = domain.StatusExpired

	DefaultLimit = domain.DefaultLimit
	MaxLimit     = domain.MaxLimit
	OrderAsc     = domain.OrderAsc
	OrderDesc    = domain.OrderDesc

	RunPrefix     = domain.RunPrefix
	ThreadPrefix  = domain.ThreadPrefix
	MessagePrefix = domain.MessagePrefix

	ScopeRead  = domain.ScopeRead
	ScopeRun   = domain.ScopeRun
	ScopeAdmin = domain.ScopeAdmin

	MaxMetadataKeys     = domain.MaxMetadataKeys
	MaxMetadataKeyLen   = domain.MaxMetadataKeyLen
	MaxMetadataValueLen = domain.MaxMetadataValueLen
)

// The state machine and ids, as the domain defines them.
var (
	IsTerminal      = domain.IsTerminal
	CheckTransition = domain.CheckTransition
	ValidStatus     = domain.ValidStatus
	Statuses        = domain.Statuses
	NewID           = domain.NewID
	Scopes          = domain.Scopes
)
