package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// runIndex is one secondary index over runs: bucket keys are the field's
// value + 0x00 + run id, values are empty. Runs whose field is empty are
// not in the index (status is never empty).
type runIndex struct {
	name   string // the filter's name, as in the API
	bucket []byte
	field  func(*Run) string
}

// runIndexes lists the indexes. action_id+status serves the most common
// combined filter ("failed runs of this action") with one range instead of
// an intersection of two.
var runIndexes = []runIndex{
	{"thread_id", []byte("runs_by_thread"), func(r *Run) string { return r.ThreadID }},
	{"action_id", []byte("runs_by_action"), func(r *Run) string { return r.ActionID }},
	{"action_id+status", []byte("runs_by_action_status"), actionStatus},
	{"plugin_id", []byte("runs_by_plugin"), func(r *Run) string { return r.PluginID }},
	{"status", []byte("runs_by_status"), func(r *Run) string { return r.Status }},
	{"key_id", []byte("runs_by_key"), func(r *Run) string { return r.KeyID }},
}

func actionStatus(r *Run) string {
	if r.ActionID == "" {
		return ""
	}
	return r.ActionID + "\x00" + r.Status
}

// runFillPercent packs the pages of the run buckets: their keys grow with
// time (ids, and ids within an index value), so a split page is rarely
// written into again and bbolt's default of half-full pages wastes space.
const runFillPercent = 0.9

func indexKey(value, id string) []byte {
	k := make([]byte, 0, len(value)+1+len(id))
	k = append(k, value...)
	k = append(k, 0)
	return append(k, id...)
}

// indexPrefix is the key prefix of every run with that value.
func indexPrefix(value string) []byte {
	return append([]byte(value), 0)
}

// PutRun stores r, creating or updating it, durably, in a group commit
// shared with concurrent callers. An update must follow the run state
// machine (see CheckTransition): a finished run gives ErrTerminal. A run
// without ID gets NewID(RunPrefix); one without CreatedAt gets its id's
// time. Both are set on r.
func (rs Runs) PutRun(ctx context.Context, r *Run) error {
	return rs.db.Runs().PutRuns(context.Background(), []*Run{r})
}

// PutRuns stores several runs in one record: all of them or, when one is
// refused, none. They are durable in the run journal when it returns (one
// write and fdatasync shared with concurrent callers) and reach the bbolt
// file a little later; GetRun sees them at once, and the reads that scan
// the file (ListRuns, Stats, Check) copy them in first.
func (rs Runs) PutRuns(ctx context.Context, runs []*Run) error {
	enc, err := prepareRuns(runs)
	if err != nil {
		return err
	}
	return rs.db.journal.put(runs, enc)
}

// prepareRuns fills in ids and times, validates and encodes runs (outside
// the transaction, to keep the writer's critical section short).
func prepareRuns(runs []*Run) ([][]byte, error) {
	enc := make([][]byte, len(runs))
	for i, r := range runs {
		if err := prepareRun(r); err != nil {
			return nil, err
		}
		v, err := encodeRun(r)
		if err != nil {
			return nil, err
		}
		enc[i] = v
	}
	return enc, nil
}

func prepareRun(r *Run) error {
	if r.ID == "" {
		r.ID = NewID(RunPrefix)
	}
	created, ok := idTime(r.ID, RunPrefix)
	if !ok {
		return invalidf("run id %q is not %s followed by a ULID", r.ID, RunPrefix)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = created
	}
	if !ValidStatus(r.Status) {
		return invalidf("run %s: unknown status %q", r.ID, r.Status)
	}
	return checkNoNUL(r.ActionID, r.PluginID, r.ThreadID, r.KeyID)
}

// checkNoNUL refuses an action, plugin or thread id holding the byte that
// separates values from ids in index keys.
func checkNoNUL(actionID, pluginID, threadID, keyID string) error {
	for _, f := range [...]struct{ name, v string }{{"action_id", actionID}, {"plugin_id", pluginID}, {"thread_id", threadID}, {"key_id", keyID}} {
		if strings.IndexByte(f.v, 0) >= 0 {
			return invalidf("%s contains a NUL byte", f.name)
		}
	}
	return nil
}

// putRunsTx checks every run against its stored state, then writes them
// all. It writes nothing when it refuses one.
func putRunsTx(tx *bbolt.Tx, runs []*Run, enc [][]byte) error {
	b := tx.Bucket(bucketRuns)
	olds := make([]*Run, len(runs))
	seen := make(map[string]*Run, len(runs))
	for i, r := range runs {
		old, err := storedRun(b, seen, r.ID)
		if err != nil {
			return err
		}
		if old != nil {
			if err := CheckTransition(old.Status, r.Status); err != nil {
				return reject(fmt.Errorf("updating run %s: %w", r.ID, err))
			}
		}
		olds[i], seen[r.ID] = old, r
	}
	added := 0
	for i, r := range runs {
		if err := writeRun(tx, olds[i], r, enc[i]); err != nil {
			return fmt.Errorf("writing run %s: %w", r.ID, err)
		}
		if olds[i] == nil {
			added++
		}
	}
	return addRunCount(tx, added)
}

// storedRun returns the run as stored or as written earlier in this call.
func storedRun(b *bbolt.Bucket, seen map[string]*Run, id string) (*Run, error) {
	if r, ok := seen[id]; ok {
		return r, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	old, err := decodeRunKeys(v)
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", id, err)
	}
	return old, nil
}

// writeRun puts r and moves its index entries from old's values (old is
// nil for a new run).
func writeRun(tx *bbolt.Tx, old, r *Run, enc []byte) error {
	runs := tx.Bucket(bucketRuns)
	runs.FillPercent = runFillPercent
	if err := runs.Put([]byte(r.ID), enc); err != nil {
		return err
	}
	for _, ix := range runIndexes {
		nv, ov := ix.field(r), ""
		if old != nil {
			ov = ix.field(old)
			if ov == nv {
				continue
			}
		}
		b := tx.Bucket(ix.bucket)
		b.FillPercent = runFillPercent
		if err := moveIndex(b, r.ID, ov, nv); err != nil {
			return fmt.Errorf("updating %s index: %w", ix.name, err)
		}
	}
	return nil
}

// deleteRun removes the run r (as stored) and its index entries.
func deleteRun(tx *bbolt.Tx, r *Run) error {
	for _, ix := range runIndexes {
		if err := moveIndex(tx.Bucket(ix.bucket), r.ID, ix.field(r), ""); err != nil {
			return fmt.Errorf("updating %s index: %w", ix.name, err)
		}
	}
	return tx.Bucket(bucketRuns).Delete([]byte(r.ID))
}

// moveIndex replaces id's entry under value from with one under to; an
// empty value means no entry.
func moveIndex(b *bbolt.Bucket, id, from, to string) error {
	if from != "" {
		if err := b.Delete(indexKey(from, id)); err != nil {
			return err
		}
	}
	if to != "" {
		return b.Put(indexKey(to, id), nil)
	}
	return nil
}

func addRunCount(tx *bbolt.Tx, delta int) error {
	if delta == 0 {
		return nil
	}
	meta := tx.Bucket(bucketMeta)
	n := int64(getUint64(meta, metaRunCount)) + int64(delta)
	return putUint64(meta, metaRunCount, uint64(max(n, 0)))
}

// GetRun returns the run with that id, or an error wrapping ErrNotFound.
func (rs Runs) GetRun(ctx context.Context, id string) (*Run, error) {
	if enc, ok := rs.db.journal.get(id); ok {
		return decodeRun(id, enc)
	}
	var r *Run
	err := rs.db.view(func(tx *bbolt.Tx) error {
		var err error
		r, err = getRun(tx, id)
		return err
	})
	return r, err
}

func getRun(tx *bbolt.Tx, id string) (*Run, error) {
	v := tx.Bucket(bucketRuns).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return decodeRun(id, v)
}

func decodeRun(id string, v []byte) (*Run, error) {
	r := new(Run)
	if err := json.Unmarshal(v, r); err != nil {
		return nil, &wrapped{Msg: fmt.Sprintf("run %s: the stored record is damaged (%v)", id, err), Err: ErrCorrupt}
	}
	return r, nil
}

// decodeRunKeys decodes the fields of a stored run that the state machine
// and its indexes use, skipping input, output and events.
//
// It reads the record only as far as "status": Run's fields are encoded in
// its declaration order, in which the indexed fields come before status
// and the large ones (input, output, events) after it, so a run with a
// 64 KiB input costs no more than an empty one.
func decodeRunKeys(v []byte) (*Run, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("run record is not a JSON object")
	}
	r := new(Run)
	fields := map[string]*string{"id": &r.ID, "action_id": &r.ActionID, "plugin_id": &r.PluginID, "thread_id": &r.ThreadID,
		"status": &r.Status, "key_id": &r.KeyID}
	seenStatus := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("reading run record: %w", err)
		}
		name, _ := t.(string)
		if seenStatus && name != "key_id" {
			break // the index fields come first, key_id (if any) right after status
		}
		var raw json.RawMessage
		var dst any = &raw
		if f := fields[name]; f != nil {
			dst = f
		}
		if err := dec.Decode(dst); err != nil {
			return nil, fmt.Errorf("reading run record field %q: %w", name, err)
		}
		if name == "key_id" {
			break
		}
		seenStatus = seenStatus || name == "status"
	}
	return r, nil
}

// timeSlack widens the id range searched for a created_at range: a run's
// CreatedAt may lag its id's time a little.
const timeSlack = time.Second

// ListRuns returns one page of the runs matching f, and whether more
// follow. It walks the indexes of the given filters together, so the cost
// grows with the page, not with the number of runs stored. The time range
// is matched on CreatedAt, but the walk is bounded by the ids' time, so
// CreatedAt must lie within a second of the id's time (as it does when the
// id is made by NewID when the run is created, or CreatedAt left zero).
func (rs Runs) ListRuns(ctx context.Context, f RunFilter, p Page) (runs []*Run, hasMore bool, err error) {
	pg, err := rs.ListRunsPage(ctx, f, p)
	return pg.Runs, pg.HasMore, err
}

// listRuns is ListRuns, also returning the ids of the damaged records it
// skipped (see ListRunsPage).
func (rs Runs) listRuns(f RunFilter, p Page) (runs []*Run, hasMore bool, damaged []string, err error) {
	s, err := scanOf(p)
	if err != nil {
		return nil, false, nil, err
	}
	if err := CheckRunFilter(f); err != nil {
		return nil, false, nil, err
	}
	// Copy the journal in first, so the page holds every durable run. When
	// that fails (a full disk) the page is read from the file as it is,
	// with each run's latest journaled state: history stays readable,
	// though runs only in the journal are left out until the copy works.
	unsettled := rs.db.journal.settle() != nil
	defer func() {
		if unsettled && err == nil {
			rs.db.journal.overlay(runs)
		}
	}()
	timed := !f.From.IsZero() || !f.To.IsZero()
	if !f.From.IsZero() {
		s.atLeast([]byte(idFloor(RunPrefix, f.From.Add(-timeSlack))))
	}
	if !f.To.IsZero() {
		s.below([]byte(idFloor(RunPrefix, f.To.Add(timeSlack+time.Millisecond))))
	}
	err = rs.db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		var last *Run // decoded by match, used by take
		match := func(id []byte) (bool, error) {
			r, err := lookupRun(b, id)
			if err != nil {
				// A damaged record is skipped and named, not a failed
				// page; one after the page's last run belongs to the next.
				if len(runs) == s.limit {
					return true, nil
				}
				damaged = append(damaged, string(id))
				return false, nil
			}
			if r == nil {
				return false, nil
			}
			last = r
			return !timed || inTimeRange(r.CreatedAt, f.From, f.To), nil
		}
		take := func([]byte) error {
			runs = append(runs, last)
			return nil
		}
		hasMore, err = s.list(runCursors(tx, f), match, take)
		return err
	})
	if err != nil {
		return nil, false, nil, fmt.Errorf("listing runs: %w", err)
	}
	if s.reverse {
		reversed(runs)
		reversed(damaged)
	}
	return runs, hasMore, damaged, nil
}

// lookupRun decodes the run id, or returns nil when an index points to a
// run that is gone (Check reports that).
func lookupRun(b *bbolt.Bucket, id []byte) (*Run, error) {
	v := b.Get(id)
	if v == nil {
		return nil, nil
	}
	return decodeRun(string(id), v)
}

func inTimeRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}

// runCursors returns a cursor per index the filter needs, or one over all
// runs. The first one drives the walk: the most selective kind first.
func runCursors(tx *bbolt.Tx, f RunFilter) []*idCursor {
	var cs []*idCursor
	add := func(index, value string) {
		b := tx.Bucket(runIndexByName(index).bucket)
		cs = append(cs, newIDCursor(b, indexPrefix(value)))
	}
	if f.ThreadID != "" {
		add("thread_id", f.ThreadID)
	}
	if f.KeyID != "" {
		add("key_id", f.KeyID)
	}
	switch {
	case f.ActionID != "" && f.Status != "":
		add("action_id+status", f.ActionID+"\x00"+f.Status)
	case f.ActionID != "":
		add("action_id", f.ActionID)
	}
	if f.PluginID != "" {
		add("plugin_id", f.PluginID)
	}
	if f.Status != "" && f.ActionID == "" {
		add("status", f.Status)
	}
	if len(cs) == 0 {
		cs = append(cs, newIDCursor(tx.Bucket(bucketRuns), nil))
	}
	return cs
}

// splitIndexKey splits an index key into value and id (ids hold no NUL;
// a composite value may).
func splitIndexKey(k []byte) (value, id string, ok bool) {
	i := bytes.LastIndexByte(k, 0)
	if i < 0 {
		return "", "", false
	}
	return string(k[:i]), string(k[i+1:]), true
}
