package store

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// File names inside the data directory.
const (
	FileName    = "toolhost.db"  // the bbolt file
	PIDFileName = "toolhost.pid" // pid of the process holding FileName
)

// SchemaVersion is the version of the record layout this package writes.
const SchemaVersion = 1

// DefaultTimeout is how long Open waits for another process to release the
// file when Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configures Open.
type Options struct {
	// Timeout is how long Open waits for the file lock held by another
	// process before failing with ErrInUse. Zero means DefaultTimeout; a
	// negative value waits forever.
	Timeout time.Duration

	// SecretKey is the 32-byte AES-256 key that seals secret plugin config
	// values (see LoadSecretKey). Without it plugins without secrets still
	// work, and storing or reading a secret value fails with ErrSecretKey.
	SecretKey []byte

	// MaxBatch caps how many writes share one group commit (default 1000).
	MaxBatch int

	// Observer, when set, hears how long each group commit and journal
	// write took (for metrics).
	Observer Observer

	journal *journalTuning // nil: defaultJournalTuning (tests change it)
}

// Bucket names.
var (
	bucketMeta        = []byte("meta")
	bucketPlugins     = []byte("plugins")
	bucketManifests   = []byte("manifests")
	bucketKeys        = []byte("keys")
	bucketKeyDigests  = []byte("key_digests")
	bucketRuns        = []byte("runs")
	bucketIdempotency = []byte("idempotency")
	bucketThreads     = []byte("threads")
	bucketMessages    = []byte("messages")
)

// Keys in the meta bucket.
var (
	metaSchemaVersion = []byte("schema_version") // decimal text
	metaRunCount      = []byte("run_count")      // uint64, big endian
	// metaJournalApplied is the seq of the last journal record copied
	// into the file (uint64, big endian), written with the copy.
	metaJournalApplied = []byte("journal_applied")
)

func allBuckets() [][]byte {
	bs := [][]byte{bucketMeta, bucketPlugins, bucketManifests, bucketKeys,
		bucketKeyDigests, bucketRuns, bucketIdempotency, bucketThreads, bucketMessages}
	for _, ix := range runIndexes {
		bs = append(bs, ix.bucket)
	}
	return bs
}

// DB is an open toolhost database. It is safe for concurrent use.
type DB struct {
	bolt    *bbolt.DB
	dir     string
	aead    cipher.AEAD // nil without Options.SecretKey
	commit  *committer
	journal *journal // run records on the hot path (see journal.go)
	// recovered is how many run records Open copied from the journal
	// that a stopped host left behind.
	recovered int
	keyUse    keyUseThrottle

	mu        sync.Mutex     // guards closed and bg.Add
	closed    bool           // set by Close
	bg        sync.WaitGroup // background writes, waited for by Close
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database in dir. It fails fast, with
// an error wrapping ErrInUse, when another process has it open.
func Open(dir string, opts Options) (*DB, error) {
	aead, err := newAEAD(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	bdb, err := openBolt(dir, opts.Timeout)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: bdb, dir: dir, aead: aead}
	if err := db.writePID(); err != nil {
		bdb.Close()
		return nil, err
	}
	if err := db.bolt.Update(initSchema); err != nil {
		db.removePID()
		bdb.Close()
		return nil, fmt.Errorf("opening %s: %w", bdb.Path(), err)
	}
	db.commit = newCommitter(bdb, opts.MaxBatch)
	db.commit.observer = opts.Observer
	tuning := defaultJournalTuning
	if opts.journal != nil {
		tuning = *opts.journal
	}
	db.journal, db.recovered, err = openJournal(db, tuning)
	if err != nil {
		db.commit.close()
		db.removePID()
		bdb.Close()
		return nil, err
	}
	return db, nil
}

// Recovered returns how many run records Open copied into the file from
// the journal left by a host that stopped without closing it (a crash or a
// kill): runs that were acknowledged but not yet in the file.
func (db *DB) Recovered() int { return db.recovered }

func (db *DB) journalPath() string { return filepath.Join(db.dir, JournalFileName) }

func openBolt(dir string, timeout time.Duration) (*bbolt.DB, error) {
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0 // bbolt: wait forever
	}
	path := filepath.Join(dir, FileName)
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      timeout,
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &wrapped{
			Msg: fmt.Sprintf("data directory %s in use by another toolhost (pid %s)", dir, readPID(dir)),
			Err: ErrInUse,
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return bdb, nil
}

// initSchema creates the buckets and checks or sets the schema version.
func initSchema(tx *bbolt.Tx) error {
	for _, name := range allBuckets() {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("creating bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	raw := meta.Get(metaSchemaVersion)
	if raw == nil {
		return meta.Put(metaSchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return fmt.Errorf("reading schema version %q: %w", raw, ErrCorrupt)
	}
	if v > SchemaVersion {
		return &wrapped{
			Msg: fmt.Sprintf("schema version %d was written by a newer toolhost; this one understands up to %d: upgrade toolhost", v, SchemaVersion),
			Err: ErrSchemaVersion,
		}
	}
	// v < SchemaVersion: migrations go here when there is a version 2.
	return nil
}

// Path is the path of the bbolt file.
func (db *DB) Path() string { return db.bolt.Path() }

// Close waits for pending writes, then closes the file and releases the lock.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.mu.Lock()
		db.closed = true
		db.mu.Unlock()
		db.bg.Wait()
		jerr := db.journal.close()
		db.commit.close()
		db.removePID()
		db.closeErr = db.bolt.Close()
		if jerr != nil {
			db.closeErr = jerr
		}
	})
	return db.closeErr
}

// background runs fn in a goroutine that Close waits for; it does nothing
// once Close has begun.
func (db *DB) background(fn func()) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return
	}
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		fn()
	}()
}

func (db *DB) pidPath() string { return filepath.Join(db.dir, PIDFileName) }

func (db *DB) writePID() error {
	pid := strconv.Itoa(os.Getpid()) + "\n"
	if err := os.WriteFile(db.pidPath(), []byte(pid), 0o600); err != nil {
		return fmt.Errorf("writing pid file: %w", err)
	}
	return nil
}

// removePID removes the pid file if it still names this process.
func (db *DB) removePID() {
	if readPID(db.dir) == strconv.Itoa(os.Getpid()) {
		os.Remove(db.pidPath())
	}
}

// readPID returns the pid recorded in dir, or "unknown".
func readPID(dir string) string {
	raw, err := os.ReadFile(filepath.Join(dir, PIDFileName))
	if err != nil {
		return "unknown"
	}
	pid := strings.TrimSpace(string(raw))
	if _, err := strconv.Atoi(pid); err != nil {
		return "unknown"
	}
	return pid
}

// view runs fn in a read transaction.
func (db *DB) view(fn func(*bbolt.Tx) error) error {
	err := db.bolt.View(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// update runs fn in its own write transaction (admin paths, maintenance).
func (db *DB) update(fn func(*bbolt.Tx) error) error {
	err := db.bolt.Update(fn)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// batch runs fn in a group commit shared with concurrent callers (the hot
// path). fn may run more than once and must only have effects inside tx.
// fn should validate before it writes and wrap validation failures with
// reject, so that they do not force the whole group to be retried.
func (db *DB) batch(fn func(*bbolt.Tx) error) error {
	return db.commit.do(fn)
}

func getUint64(b *bbolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint64(b *bbolt.Bucket, key []byte, n uint64) error {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], n)
	return b.Put(key, v[:])
}
