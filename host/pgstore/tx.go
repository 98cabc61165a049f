package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// inTx runs fn in a transaction, committed when fn returns nil. Errors
// from fn that are the store's own pass unchanged; database errors are
// marked ErrUnavailable when the database could not be reached, and
// never show the password.
func (db *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, fn)
	var pgErr *pgconn.PgError
	if err != nil && (errors.As(err, &pgErr) || isConnError(err)) {
		return db.fail("", err)
	}
	return err
}

// isCode reports whether err is a PostgreSQL error with that SQLSTATE.
func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// SQLSTATE codes the store tells apart.
const (
	codeForeignKey = "23503"
)
