package store

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/internal/fsync"
)

// JournalFileName is the run journal, next to FileName in the data
// directory.
const JournalFileName = "toolhost.journal"

// journalTuning says when records move from the journal into bbolt: a
// record waits at most applyDelay, or less once applyBatch records are
// waiting. A file that reaches maxBytes before a rewind (see makeRoom) is
// applied in full first.
type journalTuning struct {
	applyDelay time.Duration
	applyBatch int
	maxBytes   int64
}

var defaultJournalTuning = journalTuning{
	applyDelay: 50 * time.Millisecond,
	applyBatch: 512,
	maxBytes:   64 << 20,
}

// journal makes run records durable with one write and one fdatasync per
// group of concurrent callers, instead of a bbolt commit (several page
// writes and two fdatasyncs). Records are copied into bbolt later, many per
// transaction, by apply; until then reads find them in latest (GetRun) or
// wait for apply (settle). Open replays what a crash left unapplied.
//
// The group commit has no goroutine of its own: the first caller to find
// the file free writes every record waiting at that moment, and callers
// that arrive during its fdatasync wait for the next writer, one of them.
type journal struct {
	db  *DB
	f   *os.File
	cfg journalTuning

	mu      sync.Mutex
	cond    *sync.Cond // broadcast when a write ends
	open    *jbatch    // records waiting for the next write
	writing bool       // a caller is writing a batch
	off     int64      // where the next write goes
	base    uint64     // seq of the record at the start of the file
	nextSeq uint64     // sequence number of the next record
	durable uint64     // every record up to this one is durable
	applied uint64     // every record up to this one is in bbolt
	queue   []*jentry  // records not yet in bbolt, in sequence order
	latest  map[string]*jentry
	// topID is at least every run id in bbolt: a run with a greater id
	// (a new ULID, usually) is new without a look at the file.
	topID   string
	err     error       // set when the journal takes no more records (secureAfterFailedWrite)
	errAt   time.Time   // when err was last set or retried
	failed  atomic.Bool // err != nil, read without mu
	closed  bool
	writes  atomic.Int64 // writes made, for benchmarks
	maxRuns atomic.Int64 // runs kept at each apply (DB.LimitRuns); 0: no limit

	applyMu sync.Mutex    // one apply at a time
	kick    chan struct{} // wakes the applier: records are waiting
	full    chan struct{} // applyBatch records are waiting
	stop    chan struct{}
	stopped chan struct{}
}

// jentry is one run in the journal: what the state machine and the
// indexes need, and its encoded record.
type jentry struct {
	seq uint64 // the record (one PutRuns call) it belongs to
	run *Run   // id, status and indexed fields only
	enc []byte // part of rec
	rec []byte // the whole record, shared by its runs, as a rewind copies it
}

// jbatch is the records one write makes durable.
type jbatch struct {
	recs    [][]byte // encoded records, in sequence order
	size    int      // their total length
	entries []*jentry
	done    bool
	err     error
}

// openJournal opens (creating if needed) db's journal, replays what it
// holds into bbolt, and starts the applier. recovered is how many run
// records the replay copied.
func openJournal(db *DB, cfg journalTuning) (j *journal, recovered int, err error) {
	f, err := os.OpenFile(db.journalPath(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("opening run journal: %w", err)
	}
	applied, recovered, err := db.replay(f)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	j = &journal{
		db: db, f: f, cfg: cfg,
		nextSeq: applied + 1, durable: applied, applied: applied,
		latest:  make(map[string]*jentry),
		kick:    make(chan struct{}, 1),
		full:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	j.cond = sync.NewCond(&j.mu)
	if err := db.view(func(tx *bbolt.Tx) error {
		last, _ := tx.Bucket(bucketRuns).Cursor().Last()
		j.topID = string(last)
		return nil
	}); err != nil {
		f.Close()
		return nil, 0, err
	}
	go j.applier()
	return j, recovered, nil
}

// put makes runs durable in the journal, all of them or none.
func (j *journal) put(runs []*Run, enc [][]byte) error {
	// The record is encoded before taking the lock (a 64 KiB input is
	// copied once, here); enqueue only stamps its sequence number.
	rec := appendRecord(nil, 0, enc)
	j.mu.Lock()
	if j.err != nil {
		j.retryAfterFailure()
	}
	b, err := j.enqueue(runs, enc, rec)
	if err != nil {
		j.mu.Unlock()
		return err
	}
	for !b.done {
		if j.writing {
			j.cond.Wait()
			continue
		}
		j.writeOpen()
	}
	j.mu.Unlock()
	return b.err
}

// enqueue checks runs against their latest state, then adds them to the
// open batch as one record, rec (appendRecord of enc, sealed here with its
// sequence number). Called with mu held.
func (j *journal) enqueue(runs []*Run, enc [][]byte, rec []byte) (*jbatch, error) {
	switch {
	case j.closed:
		return nil, ErrClosed
	case j.err != nil:
		return nil, fmt.Errorf("run journal: a write failed and the records it left could not be copied into the database %s (free space there; toolhost retries by itself): %w", j.db.dir, j.err)
	}
	if err := j.checkTransitions(runs); err != nil {
		return nil, err
	}
	seq := j.nextSeq
	j.nextSeq++
	if j.open == nil {
		j.open = new(jbatch)
	}
	b := j.open
	sealRecord(rec, seq)
	b.recs = append(b.recs, rec)
	b.size += len(rec)
	j.noteIDs(runs)
	at := recordHeader
	for i, r := range runs {
		at += 4 // the run's length
		e := &jentry{seq: seq, run: runKeysOf(r), enc: rec[at : at+len(enc[i])], rec: rec}
		at += len(enc[i])
		b.entries = append(b.entries, e)
		j.queue = append(j.queue, e)
		j.latest[r.ID] = e
	}
	return b, nil
}

// noteIDs raises topID to cover runs, which are on their way into bbolt.
// Called with mu held.
func (j *journal) noteIDs(runs []*Run) {
	for _, r := range runs {
		j.topID = max(j.topID, r.ID)
	}
}

// checkTransitions refuses runs whose update breaks the state machine,
// against the latest journaled state or else the stored one.
func (j *journal) checkTransitions(runs []*Run) error {
	seen := make(map[string]*Run, len(runs))
	for _, r := range runs {
		old, err := j.current(seen, r.ID)
		if err != nil {
			return err
		}
		if old != nil {
			if err := CheckTransition(old.Status, r.Status); err != nil {
				return fmt.Errorf("updating run %s: %w", r.ID, err)
			}
		}
		seen[r.ID] = r
	}
	return nil
}

func (j *journal) current(seen map[string]*Run, id string) (*Run, error) {
	if r, ok := seen[id]; ok {
		return r, nil
	}
	if e := j.latest[id]; e != nil {
		return e.run, nil
	}
	if id > j.topID {
		return nil, nil // never stored
	}
	var old *Run
	err := j.db.view(func(tx *bbolt.Tx) error {
		var err error
		old, err = storedRun(tx.Bucket(bucketRuns), nil, id)
		return err
	})
	return old, err
}

// writeOpen writes the open batch and waits for it to be durable, with mu
// held on entry and on return (released during the I/O).
func (j *journal) writeOpen() {
	b := j.open
	j.open, j.writing = nil, true
	err := j.err
	var off int64
	var tail [][]byte
	var buf []byte
	if err == nil {
		off, tail, err = j.makeRoom(b.size)
	}
	if err == nil {
		j.mu.Unlock()
		buf = slices.Concat(append(tail, b.recs...)...)
		start := time.Now()
		err = writeDurable(j.f, buf, off)
		if o := j.db.commit.observer; o != nil {
			o.JournalWritten(time.Since(start), len(b.entries))
		}
		j.mu.Lock()
		if err != nil {
			j.secureAfterFailedWrite()
		} else {
			j.writes.Add(1)
			if off == 0 {
				j.base = recordSeq(buf)
			}
			j.off = off + int64(len(buf))
			j.durable = b.entries[len(b.entries)-1].seq
			j.wake()
		}
	}
	if err != nil {
		j.drop(b)
	}
	j.writing = false
	b.done, b.err = true, err
	j.cond.Broadcast()
}

// A rewind copies the records not yet in bbolt to the start of the file,
// if they take at most minRewindTail bytes; a full file (maxBytes) may copy
// up to an eighth of it instead of being applied in full first. With large
// records (64 KiB inputs and outputs) the records that arrive during one
// apply are megabytes, so a file under load never got below the small
// bound: it grew to maxBytes about once a second, and the writer that found
// it full applied everything while every caller waited.
const (
	minRewindTail = 256 << 10
	rewindShare   = 8
)

// makeRoom says where the next write, of a batch of size bytes, goes, and
// what to write before it. Writes go back to the start of the file as soon
// as the applier has caught up but for a few records (those that arrived
// during its transaction): they are written again in front of the batch,
// so that the file always starts with every record not yet in bbolt, in
// sequence. Replay tells them from the older records left after them by
// their sequence numbers. Overwriting keeps the file small and its size
// unchanged, which makes fdatasync cheaper than an append. A file grown to
// maxBytes whose unapplied records are too many to copy is first applied
// in full; if that fails the write is refused. Called with mu held.
func (j *journal) makeRoom(size int) (off int64, tail [][]byte, err error) {
	full := j.off >= j.cfg.maxBytes
	limit := minRewindTail
	if full {
		limit = max(limit, int(j.cfg.maxBytes/rewindShare))
	}
	if tail, ok := j.rewindTail(limit, size); ok {
		return 0, tail, nil
	}
	if !full {
		return j.off, nil, nil // append, rewind later
	}
	j.mu.Unlock()
	err = j.apply()
	j.mu.Lock()
	if err != nil {
		return 0, nil, fmt.Errorf("run journal is full (%d bytes) and cannot be copied into the database: %w", j.off, err)
	}
	return 0, nil, nil // every durable record is in bbolt (no write ran meanwhile)
}

// rewindTail returns the durable records not yet in bbolt, to be written
// at the start of the file before a batch of size bytes, or says a rewind
// cannot be made now: some record at the start is not in bbolt yet, the
// records take more than limit bytes, or writing them again would
// overwrite their own copies at the end of the file. Called with mu held.
func (j *journal) rewindTail(limit, size int) ([][]byte, bool) {
	if j.off == 0 || j.applied < j.base {
		return nil, false
	}
	var tail [][]byte
	n := 0
	for i, e := range j.queue {
		if e.seq > j.durable {
			break
		}
		if i > 0 && j.queue[i-1].seq == e.seq {
			continue // the same record
		}
		if n += len(e.rec); n > limit {
			return nil, false
		}
		tail = append(tail, e.rec)
	}
	// They are the last n bytes before off: a torn write must not reach them.
	if int64(2*n+size) > j.off {
		return nil, false
	}
	return tail, true
}

// secureAfterFailedWrite runs after a write or fdatasync failed (a full
// disk, an I/O error). The batch's callers get the error; but the write may
// have clobbered part of the file, and with it records that are durable
// but not yet in bbolt, so those are applied at once. If that works the
// file holds nothing needed and the next write starts it afresh; if not,
// the journal refuses further records, since a crash could now lose some.
// Called with mu held.
func (j *journal) secureAfterFailedWrite() {
	j.mu.Unlock()
	err := j.apply()
	j.mu.Lock()
	if err != nil {
		j.err, j.errAt = err, time.Now()
		j.failed.Store(true)
		return
	}
	j.off = 0
}

// retryWait is how long the journal waits after a failure before it tries
// again to copy its records into the database.
const retryWait = time.Second

// retryAfterFailure tries again, at most once per retryWait, what a failed
// write left to do: copy the durable records into bbolt. Once that works
// (space came back), the journal takes records again from the start of
// its file, without a restart. Called with mu held.
func (j *journal) retryAfterFailure() {
	if j.writing || time.Since(j.errAt) < retryWait {
		return
	}
	j.errAt = time.Now()
	j.mu.Unlock()
	err := j.apply()
	j.mu.Lock()
	if j.err == nil || j.writing {
		return
	}
	if err != nil {
		j.err = err
		return
	}
	j.err, j.off = nil, 0
	j.failed.Store(false)
}

// health is nil while the journal takes records, else why it does not
// (retrying first when it is time).
func (j *journal) health() error {
	if !j.failed.Load() {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		j.retryAfterFailure()
	}
	if j.err != nil {
		return fmt.Errorf("run journal in %s takes no records: %w", j.db.dir, j.err)
	}
	return nil
}

// drop forgets the records of a batch that was not written: they leave
// the queue, and latest falls back to each run's previous record. Called
// with mu held.
func (j *journal) drop(b *jbatch) {
	first, last := b.entries[0].seq, b.entries[len(b.entries)-1].seq
	kept := j.queue[:0]
	for _, e := range j.queue {
		if e.seq < first || e.seq > last {
			kept = append(kept, e)
		}
	}
	clear(j.queue[len(kept):])
	j.queue = kept
	for _, e := range b.entries {
		if j.latest[e.run.ID] != e {
			continue
		}
		delete(j.latest, e.run.ID)
		for i := len(kept) - 1; i >= 0; i-- {
			if kept[i].run.ID == e.run.ID {
				j.latest[e.run.ID] = kept[i]
				break
			}
		}
	}
}

// get returns the latest journaled record of run id, if any.
func (j *journal) get(id string) ([]byte, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e := j.latest[id]; e != nil {
		return e.enc, true
	}
	return nil, false
}

// close refuses new records, waits for the write in progress, applies
// everything and empties the file.
func (j *journal) close() error {
	j.mu.Lock()
	j.closed = true
	for j.writing || j.open != nil {
		j.cond.Wait()
	}
	j.mu.Unlock()
	close(j.stop)
	<-j.stopped
	err := j.apply()
	if err == nil && j.err == nil {
		err = truncateDurable(j.f) // all of it is in bbolt
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// runKeysOf copies the fields of r that the state machine and the indexes
// read.
func runKeysOf(r *Run) *Run {
	return &Run{ID: r.ID, ActionID: r.ActionID, PluginID: r.PluginID, ThreadID: r.ThreadID, Status: r.Status, KeyID: r.KeyID}
}

func writeDurable(f *os.File, buf []byte, off int64) error {
	if _, err := f.WriteAt(buf, off); err != nil {
		return fmt.Errorf("writing run journal: %w", err)
	}
	if err := fsync.Data(f); err != nil {
		return fmt.Errorf("syncing run journal: %w", err)
	}
	return nil
}

func truncateDurable(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("emptying run journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("emptying run journal: %w", err)
	}
	return nil
}
