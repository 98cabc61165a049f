package store

import (
	"bytes"

	"go.etcd.io/bbolt"
)

// pageScan is a Page turned into a walk over sorted ids: ids in [lo, hi)
// visited forward or backward, reversed at the end when the walk went
// against the asked order (a Before cursor walks back from it).
type pageScan struct {
	limit   int
	forward bool
	reverse bool
	lo, hi  []byte // inclusive lower and exclusive upper bound; nil: none
}

func scanOf(p Page) (pageScan, error) {
	s := pageScan{limit: p.Limit}
	switch {
	case p.Limit == 0:
		s.limit = DefaultLimit
	case p.Limit < 1 || p.Limit > MaxLimit:
		return s, invalidf("limit must be between 1 and %d, got %d", MaxLimit, p.Limit)
	}
	asc := false
	switch p.Order {
	case "", OrderDesc:
	case OrderAsc:
		asc = true
	default:
		return s, invalidf("order must be %q or %q, got %q", OrderAsc, OrderDesc, p.Order)
	}
	// The page starts at After when given; with only Before it ends there.
	backFromBefore := p.Before != "" && p.After == ""
	s.forward = asc != backFromBefore
	s.reverse = backFromBefore
	if asc {
		s.bound(p.After, p.Before)
	} else {
		s.bound(p.Before, p.After)
	}
	return s, nil
}

// bound narrows the range to ids greater than gt and less than lt; empty
// strings leave that side alone.
func (s *pageScan) bound(gt, lt string) {
	if gt != "" {
		s.atLeast(append([]byte(gt), 0)) // the smallest id after gt
	}
	if lt != "" {
		s.below([]byte(lt))
	}
}

// atLeast raises the inclusive lower bound to lo.
func (s *pageScan) atLeast(lo []byte) {
	if s.lo == nil || bytes.Compare(lo, s.lo) > 0 {
		s.lo = lo
	}
}

// below lowers the exclusive upper bound to hi.
func (s *pageScan) below(hi []byte) {
	if s.hi == nil || bytes.Compare(hi, s.hi) < 0 {
		s.hi = hi
	}
}

// list walks the ids common to all cursors in page order. match (may be
// nil) filters ids cheaply; take is called for at most limit matching ids.
// hasMore tells whether another matching id follows the page.
func (s pageScan) list(cs []*idCursor, match func(id []byte) (bool, error), take func(id []byte) error) (hasMore bool, err error) {
	n := 0
	s.walk(cs, func(id []byte) bool {
		if match != nil {
			ok, merr := match(id)
			if merr != nil || !ok {
				err = merr
				return merr == nil
			}
		}
		if n == s.limit {
			hasMore = true
			return false
		}
		n++
		err = take(id)
		return err == nil
	})
	return hasMore, err
}

// walk visits, in the scan's direction and within its bounds, every id
// present in all cursors, until visit returns false. With more than one
// cursor it leapfrogs: each cursor seeks to the largest id seen so far
// (smallest, going backward) until all agree, so only index keys are read
// and a rare value in one index skips the long runs of another.
func (s pageScan) walk(cs []*idCursor, visit func(id []byte) bool) {
	seek, step, first, beyond := s.moves()
	id, ok := first(cs[0])
	for {
		if !ok || beyond(id) {
			return
		}
		target, agreed := id, 1
		for i := 1; agreed < len(cs); i++ {
			id, ok = seek(cs[i%len(cs)], target)
			if !ok || beyond(id) {
				return
			}
			if bytes.Equal(id, target) {
				agreed++
			} else {
				target, agreed = id, 1
			}
		}
		if !visit(target) {
			return
		}
		// Every cursor now sits on target; step any one past it.
		id, ok = step(cs[0])
	}
}

type move func(c *idCursor) ([]byte, bool)

func (s pageScan) moves() (seek func(*idCursor, []byte) ([]byte, bool), step, first move, beyond func([]byte) bool) {
	if s.forward {
		return (*idCursor).seekGE, (*idCursor).next,
			func(c *idCursor) ([]byte, bool) { return c.seekGE(s.lo) },
			func(id []byte) bool { return s.hi != nil && bytes.Compare(id, s.hi) >= 0 }
	}
	return (*idCursor).seekLE, (*idCursor).prev,
		func(c *idCursor) ([]byte, bool) { return c.seekLT(s.hi) },
		func(id []byte) bool { return s.lo != nil && bytes.Compare(id, s.lo) < 0 }
}

// idCursor walks the ids stored in a bucket under one key prefix: keys are
// prefix + id. The ids it returns point into the transaction's memory.
type idCursor struct {
	c      *bbolt.Cursor
	prefix []byte
}

func newIDCursor(b *bbolt.Bucket, prefix []byte) *idCursor {
	return &idCursor{c: b.Cursor(), prefix: prefix}
}

func (ic *idCursor) id(k []byte) ([]byte, bool) {
	if k == nil || !bytes.HasPrefix(k, ic.prefix) {
		return nil, false
	}
	return k[len(ic.prefix):], true
}

func (ic *idCursor) key(id []byte) []byte {
	k := make([]byte, 0, len(ic.prefix)+len(id)+1)
	return append(append(k, ic.prefix...), id...)
}

// seekGE moves to the first id ≥ x.
func (ic *idCursor) seekGE(x []byte) ([]byte, bool) {
	k, _ := ic.c.Seek(ic.key(x))
	return ic.id(k)
}

// seekLT moves to the last id < x; a nil x means the last id.
func (ic *idCursor) seekLT(x []byte) ([]byte, bool) {
	var k []byte
	if x == nil {
		k = prefixEnd(ic.prefix)
	} else {
		k = ic.key(x)
	}
	if k == nil {
		k, _ = ic.c.Last()
	} else if k, _ = ic.c.Seek(k); k == nil {
		k, _ = ic.c.Last()
	} else {
		k, _ = ic.c.Prev()
	}
	return ic.id(k)
}

// seekLE moves to the last id ≤ x.
func (ic *idCursor) seekLE(x []byte) ([]byte, bool) {
	return ic.seekLT(append(append(make([]byte, 0, len(x)+1), x...), 0))
}

func (ic *idCursor) next() ([]byte, bool) {
	k, _ := ic.c.Next()
	return ic.id(k)
}

func (ic *idCursor) prev() ([]byte, bool) {
	k, _ := ic.c.Prev()
	return ic.id(k)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix, or nil when there is none (an empty prefix or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// reversed reverses s in place and returns it.
func reversed[T any](s []T) []T {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}
