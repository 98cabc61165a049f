package store

import (
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

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
