package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store"
)

// pgFlags are the flags of the db commands that can work on PostgreSQL:
// the local flags and --dsn.
type pgFlags struct {
	*localFlags
	dsn string
}

func addPGFlags(e *env, name, usage string) (*pgFlags, func([]string) error) {
	fs := newFlags(e, "db "+name, usage)
	pf := &pgFlags{localFlags: addLocalFlags(e, fs)}
	fs.StringVar(&pf.dsn, "dsn", "", "PostgreSQL database URL (postgres://user:pass@host:port/db); default: the store block of the config file")
	return pf, func(args []string) error { return parseNoArgs(fs, args) }
}

// target returns the PostgreSQL DSN the flags and the config name: --dsn,
// else the config's store block when its backend is postgres; "" for
// bbolt.
func (pf *pgFlags) target(e *env) (dsn string, cfg *config.Config, err error) {
	cfg, err = pf.load(e)
	if err != nil {
		return "", nil, err
	}
	if pf.dsn != "" {
		return pf.dsn, cfg, nil
	}
	if cfg.Store.Backend == config.BackendPostgres {
		return cfg.Store.DSN, cfg, nil
	}
	return "", cfg, nil
}

// openPG opens the database, refusing a bad DSN as a usage error.
func openPG(e *env, dsn string, migrate bool) (*pgstore.DB, error) {
	var key []byte // check opens sealed values only when the key is given
	if strings.TrimSpace(e.getenv(store.SecretKeyEnv)) != "" {
		var err error
		if key, err = store.LoadSecretKey("", e.getenv); err != nil {
			return nil, fail(ExitUsage, "%v", err)
		}
	}
	db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: key, SkipMigrate: !migrate})
	if errors.Is(err, pgstore.ErrInvalid) {
		return nil, fail(ExitUsage, "%v", err)
	}
	if err != nil {
		return nil, fail(ExitFailed, "%v", err)
	}
	return db, nil
}

// dbMigrate brings the PostgreSQL schema up to this toolhost's version
// (serve does it too, at start); on bbolt it opens the file, which
// migrates it.
func dbMigrate(e *env, args []string) error {
	pf, parse := addPGFlags(e, "migrate", "[--dsn URL] [--config plugins.hcl] [--data-dir dir]")
	if err := parse(args); err != nil {
		return err
	}
	dsn, cfg, err := pf.target(e)
	if err != nil {
		return err
	}
	if dsn == "" {
		db, err := openLocalStore(e, cfg, 0)
		if errors.Is(err, store.ErrInUse) {
			return inUseError(err, "db migrate")
		}
		if err != nil {
			return fail(ExitFailed, "%v", err)
		}
		defer db.Close()
		fmt.Fprintf(e.stdout, "%s: schema version %d (bbolt migrates when it opens)\n", db.Where(), store.SchemaVersion)
		return nil
	}
	db, err := openPG(e, dsn, true)
	if err != nil {
		return err
	}
	defer db.Close()
	v, _, err := db.Version(context.Background())
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	fmt.Fprintf(e.stdout, "database at %s: schema version %d (%d migration(s) applied now)\n", db.Where(), v, db.Migrated())
	return nil
}

// dbCheckAny checks PostgreSQL when --dsn is given or the config's store
// is postgres, else the bbolt file.
func dbCheckAny(e *env, args []string) error {
	pf, parse := addPGFlags(e, "check", "[--dsn URL] [--config plugins.hcl] [--data-dir dir]")
	if err := parse(args); err != nil {
		return err
	}
	dsn, _, err := pf.target(e)
	if err != nil {
		return err
	}
	if dsn == "" {
		return dbCheck(e, args)
	}
	return pgCheck(e, dsn)
}

// pgCheck reports the schema version, connectivity, record counts and
// the problems Check finds.
func pgCheck(e *env, dsn string) error {
	db, err := openPG(e, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	v, _, err := db.Version(ctx)
	if err != nil {
		return fail(ExitFailed, "database at %s has no toolhost schema (%v): run `toolhost db migrate`", db.Where(), err)
	}
	if want := pgstore.SchemaVersion(); v != want {
		return fail(ExitFailed, "database at %s is at schema version %d, this toolhost's is %d: run `toolhost db migrate` (with the newer toolhost when the database's is newer)", db.Where(), v, want)
	}
	if err := db.Check(ctx); err != nil {
		fmt.Fprintf(e.stdout, "problems found in the database at %s:\n%v\n", db.Where(), err)
		return fail(ExitFailed, "the database is inconsistent; restore it from a backup")
	}
	st, err := db.Stats(ctx)
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	fmt.Fprintln(e.stdout, "ok")
	fmt.Fprintf(e.stdout, "database: %s, %s, schema version %d\n", db.Where(), humanSize(st.Size), v)
	fmt.Fprintf(e.stdout, "runs:    %d\nthreads: %d\nplugins: %d\nkeys:    %d\n", st.Runs, st.Threads, st.Plugins, st.Keys)
	return nil
}

// dbCopy moves a deployment from its bbolt file into an empty PostgreSQL
// database.
func dbCopy(e *env, args []string) error {
	fs := newFlags(e, "db copy", "--from bbolt --to postgres [--dsn URL] [--config plugins.hcl] [--data-dir dir]")
	pf := &pgFlags{localFlags: addLocalFlags(e, fs)}
	fs.StringVar(&pf.dsn, "dsn", "", "the PostgreSQL database to copy into; default: the store block of the config file")
	var from, to string
	fs.StringVar(&from, "from", "", "the backend to copy from: bbolt (the data directory's file)")
	fs.StringVar(&to, "to", "", "the backend to copy into: postgres")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if from != config.BackendBolt || to != config.BackendPostgres {
		return fail(ExitUsage, "db copy copies --from bbolt --to postgres (got --from %q --to %q)", from, to)
	}
	dsn, cfg, err := pf.target(e)
	if err != nil {
		return err
	}
	if dsn == "" {
		return fail(ExitUsage, "db copy needs the database to copy into: --dsn URL, or a store block with backend = \"postgres\" in the config file")
	}
	path := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(path); err != nil {
		return fail(ExitFailed, "no database at %s (use --data-dir or --config to point at the data directory)", path)
	}
	src, err := store.Open(cfg.DataDir, store.Options{})
	if errors.Is(err, store.ErrInUse) {
		return inUseError(err, "db copy")
	}
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	defer src.Close()
	dst, err := openPG(e, dsn, true)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := dst.CopyFromBolt(context.Background(), src)
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	fmt.Fprintf(e.stdout, "copied %s into the database at %s:\n", src.Path(), dst.Where())
	for _, kind := range store.RecordKinds {
		fmt.Fprintf(e.stdout, "  %-12s %d\n", kind+":", counts.Copied[kind])
	}
	for _, s := range counts.Skipped {
		fmt.Fprintf(e.stdout, "skipped %s\n", s)
	}
	fmt.Fprintf(e.stdout, "Secret plugin config was copied sealed: set %s on every replica to the key this host used (%s, or %s in %s).\n",
		store.SecretKeyEnv, store.SecretKeyEnv, store.SecretKeyFile, cfg.DataDir)
	return nil
}
