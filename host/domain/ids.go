package domain

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID prefixes.
const (
	RunPrefix     = "run_"
	ThreadPrefix  = "thread_"
	MessagePrefix = "msg_"
	KeyIDPrefix   = "key_"
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
	return prefix + NewULID(time.Now()).String()
}

// NewULID returns a ULID for now that sorts after every one this process
// made before.
func NewULID(now time.Time) ulid.ULID {
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
