package store

import "time"

// Observer hears of the store's durable writes, for metrics. Its methods
// are called on the writing goroutine after each write; keep them cheap.
type Observer interface {
	// Committed reports one bbolt transaction (a group commit, fsync
	// included) of n calls.
	Committed(took time.Duration, n int)
	// JournalWritten reports one run-journal write (fdatasync included) of
	// n run records.
	JournalWritten(took time.Duration, n int)
}
