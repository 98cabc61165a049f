package domain

// StorageDamage is what a store found damaged and read around: counts and
// sequence numbers only, so that it may be shown on a public route.
type StorageDamage struct {
	// Runs counts the run records that do not decode (left out of lists);
	// -1 before the store has looked.
	Runs int
	// JournalLost counts the run journal records found damaged and lost,
	// numbered JournalFirstSeq to JournalLastSeq.
	JournalLost     int
	JournalFirstSeq uint64
	JournalLastSeq  uint64
	// File says what was damaged in the data file but read around (a
	// meta page); "" when nothing.
	File string
}

// Any reports whether anything is damaged.
func (d StorageDamage) Any() bool { return d.JournalLost > 0 || d.Runs > 0 || d.File != "" }

// RunPage is one page of runs.
type RunPage struct {
	Runs    []*Run
	HasMore bool
	// Damaged names the records within the page's range that could not
	// be decoded: they are left out of Runs (and do not count towards the
	// limit), so that one bad record does not fail every page it is on.
	Damaged []string
}
