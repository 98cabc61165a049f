package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/toolhost/toolhost/host/store"
)

// Defaults for Options left zero.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxConns       = 32
	// healthInterval is how often the database is pinged for Health.
	healthInterval = time.Second
)

// Options configures Open.
type Options struct {
	// DSN is the database to use: postgres://user:pass@host:port/db?...
	// or key=value pairs, as libpq takes them.
	DSN string
	// SecretKey is the 32-byte key that seals secret plugin config values
	// (host/store.LoadSecretKey). Every replica needs the same one.
	SecretKey []byte
	// MaxConns caps the pool (default: the DSN's pool_max_conns, else
	// DefaultMaxConns).
	MaxConns int32
	// ConnectTimeout bounds connecting at Open (default
	// DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// SkipMigrate leaves the schema as it is (db check reads it).
	SkipMigrate bool
}

// DB is an open PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool     *pgxpool.Pool
	where    string // host:port of the DSN, for messages
	password string // scrubbed from every error
	sealer   *store.Sealer
	hasKey   bool // a secret key was given
	migrated int
	keyUse   store.KeyUseThrottle

	health    atomic.Pointer[error]
	stop      context.CancelFunc
	mu        sync.Mutex     // guards closed and bg.Add
	closed    bool           // set by Close
	bg        sync.WaitGroup // the health check and background writes
	closeOnce sync.Once
}

// Open connects to the database, checks that it answers and applies the
// migrations it lacks (unless SkipMigrate). An unreachable database gives
// an error wrapping ErrUnavailable that names the host and port.
func Open(ctx context.Context, opts Options) (*DB, error) {
	sealer, err := store.NewSealer(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	cfg, err := parseDSN(opts.DSN)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(opts.DSN, "pool_max_conns"): // the DSN's own setting wins
		cfg.MaxConns = DefaultMaxConns
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > timeout {
		cfg.ConnConfig.ConnectTimeout = timeout
	}
	db := &DB{where: hostPort(cfg), password: cfg.ConnConfig.Password, sealer: sealer, hasKey: opts.SecretKey != nil}
	db.pool, err = pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, db.fail("opening a connection pool", err)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := db.pool.Ping(pctx); err != nil {
		db.pool.Close()
		return nil, db.unreachable(err)
	}
	if !opts.SkipMigrate {
		ms, err := Migrations()
		if err == nil {
			db.migrated, err = migrate(ctx, db.pool, ms)
		}
		if err != nil {
			db.pool.Close()
			return nil, db.scrub(err)
		}
	}
	bctx, stop := context.WithCancel(context.Background())
	db.stop = stop
	db.bg.Add(1)
	go func() { defer db.bg.Done(); db.watchHealth(bctx) }()
	return db, nil
}

// quoted matches what an error message quotes.
var quoted = regexp.MustCompile("\"[^\"]*\"|`[^`]*`|'[^']*'")

// parseDSN parses opts.DSN; its errors never hold the password.
func parseDSN(dsn string) (*pgxpool.Config, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, invalidf("database dsn is empty: set it in the store block (dsn = env(\"TOOLHOST_DATABASE_URL\"))")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN, or parts of it that may hold the
		// password: say only what was wrong, without anything quoted.
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		if pw := dsnPassword(dsn); pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
			if dec, err := url.PathUnescape(pw); err == nil && dec != "" {
				msg = strings.ReplaceAll(msg, dec, "xxxxx")
			}
		}
		msg = quoted.ReplaceAllString(msg, `"…"`)
		return nil, invalidf("database dsn cannot be parsed: %s", msg)
	}
	return cfg, nil
}

// dsnPassword finds the password in a DSN that does not parse, so that
// it can be kept out of the error: in a URL, what follows the first ':'
// of the user info (before the last '@'); in key=value form, password's
// value.
func dsnPassword(dsn string) string {
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			return ""
		}
		_, pw, _ := strings.Cut(rest[:at], ":")
		return pw
	}
	_, v, ok := strings.Cut(dsn, "password=")
	if !ok {
		return ""
	}
	if q, ok := strings.CutPrefix(v, "'"); ok {
		if end := strings.Index(q, "'"); end >= 0 {
			return q[:end]
		}
		return q
	}
	pw, _, _ := strings.Cut(v, " ")
	return pw
}

func hostPort(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	if strings.HasPrefix(c.Host, "/") {
		return c.Host + " (unix socket, port " + strconv.Itoa(int(c.Port)) + ")"
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(int(c.Port)))
}

// Where is the database's host and port (no user, no password).
func (db *DB) Where() string { return db.where }

// Migrated is how many migrations Open applied.
func (db *DB) Migrated() int { return db.migrated }

// Pool is the connection pool, for code that adds its own tables (its
// migrations live in migrations/ too).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close stops the health check and closes the pool.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		if db.stop != nil {
			db.stop()
			db.bg.Wait()
		}
		db.pool.Close()
	})
	return nil
}

// backgroundTimeout bounds a background write.
const backgroundTimeout = 5 * time.Second

// writeTimeout bounds a write (waiting for a connection included).
const writeTimeout = 30 * time.Second

// writeCtx is the context a write runs in: not cancelled with ctx, since
// a run's final record must be stored even when its request has gone
// (as host/store does), but bounded, so that no write waits forever.
func writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
}

// background runs fn in a goroutine that Close waits for; it does nothing
// once Close has begun.
func (db *DB) background(fn func(ctx context.Context)) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), backgroundTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// Health is nil while the database answers, else an error wrapping
// ErrUnavailable naming its host and port. It is refreshed every second
// in the background, so calling it costs nothing.
func (db *DB) Health() error {
	if p := db.health.Load(); p != nil {
		return *p
	}
	return nil
}

func (db *DB) watchHealth(ctx context.Context) {
	t := time.NewTicker(healthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 2*healthInterval)
		err := db.pool.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			err = db.unreachable(err)
			db.health.Store(&err)
		} else {
			db.health.Store(nil)
		}
	}
}

func (db *DB) unreachable(err error) error {
	return &wrapped{Msg: db.scrubText(fmt.Sprintf("database at %s unreachable: %v", db.where, err)), Err: ErrUnavailable}
}

// fail wraps a database error with what was being done, and marks it
// ErrUnavailable when the database could not be reached.
func (db *DB) fail(doing string, err error) error {
	if err == nil {
		return nil
	}
	prefix := ""
	if doing != "" {
		prefix = doing + ": "
	}
	if isConnError(err) {
		return &wrapped{Msg: db.scrubText(fmt.Sprintf("%sdatabase at %s unreachable: %v", prefix, db.where, err)), Err: ErrUnavailable}
	}
	return db.scrub(fmt.Errorf("%s%w", prefix, err))
}

// scrub returns err with the password (if any) blanked out of its text.
func (db *DB) scrub(err error) error {
	if err == nil || db.password == "" || !strings.Contains(err.Error(), db.password) {
		return err
	}
	return &wrapped{Msg: db.scrubText(err.Error()), Err: errors.Unwrap(err)}
}

func (db *DB) scrubText(s string) string {
	if db.password == "" {
		return s
	}
	return strings.ReplaceAll(s, db.password, "xxxxx")
}

// isConnError reports whether err means the database could not be
// reached (as opposed to a statement it refused).
func isConnError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err)
}
