package api

import "github.com/toolhost/toolhost/host/store"

// storageDamage is /health's storage part: what the store found damaged,
// as counts and sequence numbers only (the route is public).
type storageDamage struct {
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
}

// storageHealth returns nil when the store knows of no damage.
func storageHealth(d store.Damage) *storageDamage {
	if d.Journal.Lost == 0 && d.Runs <= 0 {
		return nil
	}
	st := &storageDamage{
		Reason:      "damaged records found in the data directory: see the server log and run `toolhost db check` with the server stopped",
		DamagedRuns: max(d.Runs, 0),
		JournalLost: d.Journal.Lost, JournalFirstSeq: d.Journal.FirstSeq, JournalLastSeq: d.Journal.LastSeq,
	}
	return st
}
