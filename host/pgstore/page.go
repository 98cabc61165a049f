package pgstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// pageQuery is one page of a table read in id order: the rows matching
// where (conditions on args), bounded and ordered by the page's cursors.
type pageQuery struct {
	table string
	cols  string // selected columns; id first
	where []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (q *pageQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

// cond adds a condition; %s in it is replaced by v's placeholder.
func (q *pageQuery) cond(format string, v any) {
	q.where = append(q.where, fmt.Sprintf(format, q.arg(v)))
}

// sql returns the statement reading up to n rows of the page.
func (q pageQuery) sql(spec store.PageSpec, n int) (string, []any) {
	if spec.After != "" {
		q.cond("id > %s", spec.After)
	}
	if spec.Before != "" {
		q.cond("id < %s", spec.Before)
	}
	s := "SELECT " + q.cols + " FROM " + q.table
	if len(q.where) > 0 {
		s += " WHERE " + strings.Join(q.where, " AND ")
	}
	dir := "DESC"
	if spec.Forward {
		dir = "ASC"
	}
	return s + " ORDER BY id " + dir + " LIMIT " + q.arg(n), q.args
}

// readPage returns up to spec.Limit items in the page's order, whether
// more follow, and the ids of rows decode refused (left out, named).
// decode gets each row's columns; it returns a nil item and an error for
// a damaged row.
func readPage[T any](ctx context.Context, db *DB, q pageQuery, p domain.Page, decode func(pgx.Rows) (string, *T, error)) (items []*T, hasMore bool, damaged []string, err error) {
	spec, err := store.CheckPage(p)
	if err != nil {
		return nil, false, nil, err
	}
	for {
		want := spec.Limit + 1 - len(items)
		query, args := q.sql(spec, want)
		rows, err := db.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, false, nil, db.fail("listing "+q.table, err)
		}
		read, last := 0, ""
		for rows.Next() {
			read++
			id, item, derr := decode(rows)
			last = id
			switch {
			case derr != nil:
				damaged = append(damaged, id)
			case len(items) == spec.Limit:
				hasMore = true
			default:
				items = append(items, item)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, false, nil, db.fail("listing "+q.table, err)
		}
		// Damaged rows do not count: read on past them to fill the page.
		if hasMore || read < want {
			break
		}
		if spec.Forward {
			spec.After = last
		} else {
			spec.Before = last
		}
	}
	if spec.Reverse {
		slices.Reverse(items)
		slices.Reverse(damaged)
	}
	return items, hasMore, damaged, nil
}

// recordRows adapts a decoder of a row's id and record to readPage.
func recordRows[T any](decode func(id string, v []byte) (*T, error)) func(pgx.Rows) (string, *T, error) {
	return func(rows pgx.Rows) (string, *T, error) {
		var id string
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			return id, nil, err
		}
		item, err := decode(id, v)
		return id, item, err
	}
}

// noDamage turns the first damaged record of a page of kind into an
// error, for lists that have no way to name them.
func noDamage(kind string, damaged []string, err error) error {
	if err == nil && len(damaged) > 0 {
		err = fmt.Errorf("decoding %s %s: %w", kind, damaged[0], ErrCorrupt)
	}
	return err
}
