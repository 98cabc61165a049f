package store

import (
	"time"
)

// What another backend of the same records (host/pgstore) shares with
// this one, so that both check, encode and change records alike.

// PrepareRun gives r an id (NewID(RunPrefix)) and a creation time when it
// has none, and checks its id, status and index fields.
func PrepareRun(r *Run) error { return prepareRun(r) }

// EncodeRun encodes r as stored, events included (see encodeRun).
func EncodeRun(r *Run) ([]byte, error) { return encodeRun(r) }

// DecodeRun decodes a stored run; a record that does not decode gives an
// error wrapping ErrCorrupt naming id.
func DecodeRun(id string, v []byte) (*Run, error) { return decodeRun(id, v) }

// Interrupt fails r as InterruptRuns does: status failed, Error
// InterruptedError, FinishedAt now, and a run.failed event.
func Interrupt(r *Run, now time.Time) { interrupt(r, now) }

// CheckRunFilter checks a RunFilter's status and ids.
func CheckRunFilter(f RunFilter) error {
	if f.Status != "" && !ValidStatus(f.Status) {
		return invalidf("status must be a run status, got %q", f.Status)
	}
	return checkNoNUL(f.ActionID, f.PluginID, f.ThreadID, f.KeyID)
}

// PrepareMessages checks msgs for the thread, fills in their ids, thread
// id and times, and encodes them as stored.
func PrepareMessages(threadID string, msgs []*Message) ([][]byte, error) {
	return prepareMessages(threadID, msgs)
}

// CheckMetadata enforces the thread metadata limits.
func CheckMetadata(md map[string]string) error { return checkMetadata(md) }

// DecodeMessage decodes a stored message.
func DecodeMessage(v []byte) (*Message, error) { return decodeMessage(v) }

// PageSpec is a Page checked and turned into a walk over sorted ids: ids
// greater than After and less than Before ("": no bound), walked
// ascending when Forward, and the page reversed at the end when Reverse
// (a Before cursor alone walks back from it).
type PageSpec struct {
	Limit         int
	Forward       bool
	Reverse       bool
	After, Before string
}

// CheckPage checks p (limit, order) and returns its walk.
func CheckPage(p Page) (PageSpec, error) {
	s, err := scanOf(p)
	if err != nil {
		return PageSpec{}, err
	}
	spec := PageSpec{Limit: s.limit, Forward: s.forward, Reverse: s.reverse}
	if p.Order == OrderAsc {
		spec.After, spec.Before = p.After, p.Before
	} else {
		spec.After, spec.Before = p.Before, p.After
	}
	return spec, nil
}
