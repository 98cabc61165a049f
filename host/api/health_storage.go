package api

import "github.com/toolhost/toolhost/host/domain"

// storageDamage is /health's storage part: what the store found damaged,
// as counts and sequence numbers only (the route is public).
type storageDamage struct {
	// Status is "damaged", or the error code new runs get (storage_full).
	Status string `json:"status"`
	Reason string `json:"reason"`
	// DamagedRuns counts the run records that do not decode (left out of
	// lists until `toolhost db repair` moves them aside).
	DamagedRuns int `json:"damaged_runs,omitempty"`
	// JournalLost counts the run journal records that start-up found
	// damaged and could not recover, numbered JournalFirstSeq to
	// JournalLastSeq.
	JournalLost     int    `json:"journal_lost,omitempty"`
	JournalFirstSeq uint64 `json:"journal_first_seq,omitempty"`
	JournalLastSeq  uint64 `json:"journal_last_seq,omitempty"`
	// File says what start-up found damaged in the data file but could
	// read around (a meta page).
	File string `json:"file,omitempty"`
}

// storageHealth returns nil when the store knows of no damage.
func storageHealth(d domain.StorageDamage) *storageDamage {
	if !d.Any() {
		return nil
	}
	st := &storageDamage{
		Status:      "damaged",
		Reason:      "damaged records found in the data directory: see the server log and run `toolhost db check` with the server stopped",
		DamagedRuns: max(d.Runs, 0),
		JournalLost: d.JournalLost, JournalFirstSeq: d.JournalFirstSeq, JournalLastSeq: d.JournalLastSeq,
		File: fileDamage(d.File),
	}
	return st
}

// fileDamage is the file warning without the file's path (the route is
// public).
func fileDamage(w string) string {
	if w == "" {
		return ""
	}
	return "one of the data file's two meta pages was damaged; it was read as of the transaction before"
}
