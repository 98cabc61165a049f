package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	sealer  *Sealer
	commit  *committer
	journal *journal // run records on the hot path (see journal.go)
	// recovered is how many run records Open copied from the journal
	// that a stopped host left behind.
	recovered int
	// journalDamage is what that replay found damaged.
	journalDamage JournalDamage
	// fileWarning says what Open found damaged but usable in the file.
	fileWarning string
	// damagedRuns is what the last DamagedRuns found, plus one.
	damagedRuns atomic.Int64
	keyUse      KeyUseThrottle

	mu        sync.Mutex     // guards closed and bg.Add
	closed    bool           // set by Close
	bg        sync.WaitGroup // background writes, waited for by Close
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database in dir. It fails fast, with
// an error wrapping ErrInUse, when another process has it open.
//
// A file that is cut short, has damaged meta pages, or is empty next to a
// journal or secret key file is refused with an error wrapping ErrDamaged
// before bbolt maps it; a panic inside bbolt while opening becomes such an
// error too.
func Open(dir string, opts Options) (_ *DB, err error) {
	sealer, err := NewSealer(opts.SecretKey)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	fileWarning, err := preflight(dir)
	if err != nil {
		return nil, err
	}
	var bdb *bbolt.DB
	var file *os.File // the file bbolt opened, to release its lock after a panic
	defer func() {
		if err != nil && errors.Is(err, ErrDamaged) {
			if bdb != nil {
				bdb.Close()
			} else if file != nil {
				// bbolt's memory map still refers to the file, which keeps
				// its lock past Close: unlock it first.
				unlockFile(file)
				file.Close()
			}
		}
	}()
	defer recoverOpen(filepath.Join(dir, FileName), &err, debug.SetPanicOnFault(true))
	bdb, err = openBolt(dir, opts.Timeout, &file)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: bdb, dir: dir, sealer: sealer, fileWarning: fileWarning}
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

// initialMmapSize is the address space bbolt maps up front on 64-bit
// systems. bbolt remaps the file as it grows (doubling up to 1 GiB), and a
// remap waits for every read transaction and holds off new ones; the
// journal reads a run's stored state under its lock, so a remap during an
// apply stalled every run write. Mapping 1 GiB at once costs address
// space only (pages count towards RSS when touched, as before), and a file
// below 1 GiB is never remapped.
const initialMmapSize = (strconv.IntSize / 64) << 30

func openBolt(dir string, timeout time.Duration, file **os.File) (*bbolt.DB, error) {
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0 // bbolt: wait forever
	}
	path := filepath.Join(dir, FileName)
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         timeout,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: initialMmapSize,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			*file = f
			return f, err
		},
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

// Health is nil while the store can record runs, else why it cannot (a
// full disk, say), naming the data directory. After a failure it tries
// again at most once a second, so a store whose disk has room again
// reports (and is) healthy without a restart.
func (db *DB) Health() error { return db.journal.health() }
