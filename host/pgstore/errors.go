package pgstore

import (
	"errors"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// These errors can be returned by the store; test for them with
// errors.Is. The ones shared with host/store are the same values, so
// callers need not know the backend.
var (
	ErrNotFound      = domain.ErrNotFound
	ErrConflict      = domain.ErrConflict
	ErrTerminal      = domain.ErrTerminal
	ErrTransition    = domain.ErrTransition
	ErrInvalid       = domain.ErrInvalid
	ErrUnauthorized  = domain.ErrUnauthorized
	ErrSchemaVersion = store.ErrSchemaVersion
	ErrSecretKey     = store.ErrSecretKey
	ErrCorrupt       = store.ErrCorrupt

	// ErrUnavailable is returned when the database cannot be reached.
	ErrUnavailable = errors.New("database unavailable")

	// ErrNotEmpty is returned by a copy into a database that already
	// holds records.
	ErrNotEmpty = errors.New("database is not empty")
)

type wrapped = domain.Wrapped

var invalidf = domain.Invalidf
