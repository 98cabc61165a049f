package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/store"
)

// localFlags are the flags of commands that work on the data directory
// directly (key, plugin, db): where plugins.hcl is and which data
// directory to use.
type localFlags struct {
	fs        *flag.FlagSet
	config    string
	dataDir   string
	configEnv bool // TOOLHOST_CONFIG was set
}

func addLocalFlags(e *env, fs *flag.FlagSet) *localFlags {
	lf := &localFlags{fs: fs, configEnv: e.getenv("TOOLHOST_CONFIG") != ""}
	fs.StringVar(&lf.config, "config", envOr(e, "TOOLHOST_CONFIG", "plugins.hcl"), "config file, for data_dir and plugin_dir (env TOOLHOST_CONFIG)")
	fs.StringVar(&lf.dataDir, "data-dir", e.getenv("TOOLHOST_DATA_DIR"), "data directory, overrides the config file (env TOOLHOST_DATA_DIR)")
	return lf
}

// configGiven reports whether the user named a config file (flag or env).
func (lf *localFlags) configGiven() bool {
	given := lf.configEnv
	lf.fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			given = true
		}
	})
	return given
}

// load returns the configuration the server would use: the config file
// when it exists (or was named), else the defaults, with --data-dir
// applied.
func (lf *localFlags) load(e *env) (*config.Config, error) {
	_, statErr := os.Stat(lf.config)
	if statErr == nil || lf.configGiven() {
		return loadConfig(e, serveFlags{config: lf.config, dataDir: lf.dataDir})
	}
	dir := lf.dataDir
	if dir == "" {
		dir = config.DefaultDataDir
	}
	return &config.Config{
		File: "(no " + lf.config + ")", DataDir: dir, PluginDir: filepath.Join(dir, "plugins"),
		StartTimeout: config.DefaultStartTimeout,
	}, nil
}

// openLocalStore opens the store the config names like serve does (the
// bbolt file in its data directory, or its PostgreSQL database), waiting
// at most timeout for bbolt's file lock. Its errors keep their chain, so
// callers can test for store.ErrInUse.
func openLocalStore(e *env, cfg *config.Config, timeout time.Duration) (backend.Store, error) {
	key, err := backend.LoadSecretKey(cfg.Store, cfg.DataDir, e.getenv)
	if err != nil {
		return nil, err
	}
	return backend.Open(context.Background(), backend.Options{Store: cfg.Store, DataDir: cfg.DataDir, SecretKey: key, Timeout: timeout})
}

func dbCmd(e *env, args []string) error {
	return subcommand(e, "db", args, map[string]func(*env, []string) error{
		"check":   dbCheckAny,
		"compact": dbCompact,
		"copy":    dbCopy,
		"migrate": dbMigrate,
		"repair":  dbRepair,
	})
}

// dbFile resolves the flags to the database file, which must exist.
func dbFile(e *env, name string, args []string) (dir, path string, err error) {
	fs := newFlags(e, "db "+name, "[--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	if err := parseNoArgs(fs, args); err != nil {
		return "", "", err
	}
	cfg, err := lf.load(e)
	if err != nil {
		return "", "", err
	}
	if cfg.Store.Backend == config.BackendPostgres {
		return "", "", fail(ExitUsage, "db %s works on the bbolt file; %s keeps the state in PostgreSQL (its own tools back it up and compact it; `toolhost db check` checks it)", name, cfg.File)
	}
	path = filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(path); err != nil {
		return "", "", fail(ExitFailed, "no database at %s (use --data-dir or --config to point at the data directory)", path)
	}
	return cfg.DataDir, path, nil
}

func inUseError(err error, what string) error {
	return fail(ExitFailed, "%v\n%s needs the server stopped: stop `toolhost serve` first, then run it again", err, what)
}

func dbCheck(e *env, args []string) error {
	db, err := openStopped(e, "check", args)
	if err != nil {
		return err
	}
	defer db.Close()
	if n := db.Recovered(); n > 0 {
		fmt.Fprintf(e.stdout, "recovered %d run record(s) from the run journal (the host last stopped without closing it)\n", n)
	}
	reportJournalDamage(e, db)
	if err := db.Check(); err != nil {
		fmt.Fprintf(e.stdout, "problems found in %s:\n", db.Path())
		fmt.Fprintln(e.stdout, err)
		return fail(ExitFailed, "the database is inconsistent; damaged run records can be moved aside with `toolhost db repair`; otherwise restore from a backup")
	}
	st, err := db.Stats()
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	fmt.Fprintln(e.stdout, "ok")
	fmt.Fprintf(e.stdout, "file:    %s, %s\n", db.Path(), humanSize(st.FileSize))
	fmt.Fprintf(e.stdout, "runs:    %d\nthreads: %d\nplugins: %d\nkeys:    %d\n", st.Runs, st.Threads, st.Plugins, st.Keys)
	return nil
}

func dbCompact(e *env, args []string) error {
	dir, path, err := dbFile(e, "compact", args)
	if err != nil {
		return err
	}
	// Take the lock once to be sure no server holds the file.
	db, err := store.Open(dir, store.Options{})
	if errors.Is(err, store.ErrInUse) {
		return inUseError(err, "db compact")
	}
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	if err := db.Close(); err != nil {
		return fail(ExitFailed, "%v", err)
	}
	before, err := os.Stat(path)
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	tmp := path + ".compact-" + strconv.Itoa(os.Getpid()) + ".tmp"
	os.Remove(tmp) // a leftover from an earlier attempt by this pid
	if err := store.Compact(path, tmp); err != nil {
		os.Remove(tmp)
		if errors.Is(err, store.ErrInUse) || isLockTimeout(err) {
			return inUseError(err, "db compact")
		}
		return fail(ExitFailed, "%v", err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return fail(ExitFailed, "%v", err)
	}
	if err := os.Chmod(tmp, before.Mode().Perm()); err != nil {
		os.Remove(tmp)
		return fail(ExitFailed, "%v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fail(ExitFailed, "replacing %s: %v", path, err)
	}
	syncDir(filepath.Dir(path))
	after, err := os.Stat(path)
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	fmt.Fprintf(e.stdout, "compacted %s\nbefore: %s\nafter:  %s\n", path, humanSize(before.Size()), humanSize(after.Size()))
	return nil
}

func isLockTimeout(err error) bool {
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(strings.ToLower(err.Error()), "timeout"))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}
