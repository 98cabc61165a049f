package store

import (
	"encoding/json"
	"os"
	"time"
)

// JournalWrites returns how many group commits db's run journal has made.
func JournalWrites(db *DB) int64 { return db.journal.writes.Load() }

// WithJournal makes a DB opened with opts copy journaled records into
// bbolt after delay or once batch are waiting, and rewind or catch up its
// journal at maxBytes, for tests that need records to stay in the journal
// (a long delay) or the file to fill.
func WithJournal(opts Options, delay time.Duration, batch int, maxBytes int64) Options {
	opts.journal = &journalTuning{applyDelay: delay, applyBatch: batch, maxBytes: maxBytes}
	return opts
}

// BreakJournal swaps db's journal file for a closed one, so that its
// writes fail as on a failing disk, until mend is called.
func BreakJournal(db *DB) (mend func()) {
	good := db.journal.f
	broken, err := os.CreateTemp(db.dir, "broken-*")
	if err != nil {
		panic(err)
	}
	broken.Close()
	os.Remove(broken.Name())
	db.journal.mu.Lock()
	db.journal.f = broken
	db.journal.mu.Unlock()
	return func() {
		db.journal.mu.Lock()
		db.journal.f = good
		db.journal.mu.Unlock()
	}
}

// EncodeRunReflect is the reference for EncodeRun: encoding/json for every
// field but the raw ones, as encodeRun was before it wrote JSON by hand.
func EncodeRunReflect(r *Run) ([]byte, error) {
	if err := checkRawFields(r); err != nil {
		return nil, err
	}
	rest := *r
	rest.Input, rest.Output, rest.Extra = nil, nil, nil
	v, err := json.Marshal(&rest)
	if err != nil {
		return nil, err
	}
	return appendRawFields(v[:len(v)-1], r), nil // reopen the object
}
