package store

import (
	"errors"

	"github.com/toolhost/toolhost/host/domain"
)

// These errors can be returned by the store. Test for them with errors.Is:
// most are wrapped with what was being done.
var (
	// ErrNotFound is returned when the plugin, run, key, thread, message or
	// manifest asked for does not exist.
	ErrNotFound = domain.ErrNotFound

	// ErrConflict is returned when a record with the same unique name
	// already exists (an API key name).
	ErrConflict = domain.ErrConflict

	// ErrInUse is returned by Open when another process holds the data
	// directory's database file.
	ErrInUse = errors.New("data directory in use")

	// ErrTerminal is returned by PutRun when the stored run has already
	// finished (succeeded, failed, cancelled, timed_out or expired): a
	// finished run never changes again.
	ErrTerminal = domain.ErrTerminal

	// ErrTransition is returned by PutRun for a status change the run state
	// machine does not allow between two unfinished states (queued →
	// succeeded, for example). It means a bug in the caller.
	ErrTransition = domain.ErrTransition

	// ErrInvalid is returned when an argument is malformed: a bad page
	// limit, an unknown status, a key name with forbidden characters. The
	// message names the offending field.
	ErrInvalid = domain.ErrInvalid

	// ErrUnauthorized is returned by Authenticate when the API key is not
	// one of the stored keys (unknown, malformed or revoked).
	ErrUnauthorized = domain.ErrUnauthorized

	// ErrSchemaVersion is returned by Open when the file was written by a
	// newer toolhost whose schema this one does not understand.
	ErrSchemaVersion = errors.New("unsupported schema version")

	// ErrSecretKey is returned when a sealed secret cannot be opened (the
	// secret key is wrong or the data is damaged) or when secrets must be
	// sealed or opened and no secret key was configured.
	ErrSecretKey = errors.New("secret key cannot open the stored secrets")

	// ErrCorrupt is returned by Check when the file or its indexes are
	// inconsistent.
	ErrCorrupt = errors.New("database is inconsistent")

	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("database is closed")
)

// wrapped is the domain's error with its own message that still matches a
// sentinel.
type wrapped = domain.Wrapped

// invalidf returns an ErrInvalid whose message is the formatted text.
var invalidf = domain.Invalidf
