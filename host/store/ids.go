package store

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes.
const (
	RunPrefix     = "run_"
	ThreadPrefix  = "thread_"
	MessagePrefix = "msg_"
)

var ids struct {
	sync.Mutex
	lastMS  uint64
	entropy *ulid.MonotonicEntropy
}

// NewID returns prefix followed by a new ULID. IDs from one process sort in
// the order they were made, also within one millisecond and when the clock
// steps back. It is safe for concurrent use.
func NewID(prefix string) string {
	return prefix + newULID(time.Now()).String()
}

func newULID(now time.Time) ulid.ULID {
	ids.Lock()
	defer ids.Unlock()
	if ids.entropy == nil {
		ids.entropy = ulid.Monotonic(rand.Reader, 0)
	}
	ms := max(ulid.Timestamp(now), ids.lastMS)
	for {
		id, err := ulid.New(ms, ids.entropy)
		if err == nil {
			ids.lastMS = ms
			return id
		}
		ms++ // ulid.ErrMonotonicOverflow: move on to the next millisecond
	}
}

// idTime returns the time encoded in an id made by NewID, and whether id is
// prefix followed by a valid ULID.
func idTime(id, prefix string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return time.Time{}, false
	}
	u, err := ulid.ParseStrict(rest)
	if err != nil {
		return time.Time{}, false
	}
	return ulid.Time(u.Time()), true
}

// idFloor returns the smallest id with prefix whose ULID time is t's
// millisecond or later.
func idFloor(prefix string, t time.Time) string {
	var u ulid.ULID
	if t.After(time.UnixMilli(0)) {
		_ = u.SetTime(min(ulid.Timestamp(t), ulid.MaxTime()))
	}
	return prefix + u.String()
}
