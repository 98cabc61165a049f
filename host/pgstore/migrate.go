package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned schema change: migrations/NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// migrationLock is the pg_advisory_xact_lock key that serializes
// migrations: two replicas starting together migrate once. ("toolhost"
// in ASCII, as an int64.)
const migrationLock int64 = 0x746f6f6c686f7374

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return readMigrations(migrationFiles, "migrations")
}

func readMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql (four digits, lower case)", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("migration files %s and %s have the same version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		raw, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(raw)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// SchemaVersion is the newest migration this toolhost knows.
func SchemaVersion() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

// migrate applies the migrations the database lacks, all in one
// transaction holding migrationLock, and returns how many it applied. A
// database migrated by a newer toolhost (a version this one does not
// know) is refused with ErrSchemaVersion.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []Migration) (applied int, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, createVersionTable); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
		done, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		known := map[int]bool{}
		for _, m := range ms {
			known[m.Version] = true
		}
		for v := range done {
			if !known[v] {
				return &wrapped{Msg: fmt.Sprintf("the database has schema version %d, which this toolhost does not know (it knows up to %d): it was migrated by a newer toolhost; upgrade this one", v, lastVersion(ms)), Err: ErrSchemaVersion}
			}
		}
		for _, m := range ms {
			if done[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("applying migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
				return fmt.Errorf("recording migration %04d_%s: %w", m.Version, m.Name, err)
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migrating the database schema: %w", err)
	}
	return applied, nil
}

func lastVersion(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

func appliedVersions(ctx context.Context, q pgx.Tx) (map[int]bool, error) {
	rows, err := q.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	done := make(map[int]bool, len(vs))
	for _, v := range vs {
		done[int(v)] = true
	}
	return done, nil
}

// Version returns the newest migration applied to the database (0: none)
// and how many are applied.
func (db *DB) Version(ctx context.Context) (version, count int, err error) {
	var v, n int32
	err = db.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0), count(*) FROM schema_migrations").Scan(&v, &n)
	if err != nil {
		return 0, 0, db.fail("reading the schema version", err)
	}
	return int(v), int(n), nil
}
