package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// bbolt page layout (go.etcd.io/bbolt/internal/common): a header of id
// (uint64), flags (uint16), count (uint16) and overflow (uint32), then
// count elements of 16 bytes. A branch element is pos, ksize (uint32) and
// the child's pgid (uint64); a leaf element is flags, pos, ksize, vsize
// (uint32). pos counts from the element itself; a leaf's value follows its
// key. A bucket's value is its root pgid and sequence (uint64 each), then,
// for an inline bucket (root 0), a page of its own.
const (
	pageBranch   = 0x01
	pageLeaf     = 0x02
	leafIsBucket = 0x01
	pageElemSize = 16
	maxTreeDepth = 64
)

// pageWalk reads a bbolt file's page tree with plain reads, not bbolt's
// memory map: bbolt follows a damaged page reference wherever it points
// and faults past the end of the file, in a goroutine of its own that
// nothing can recover. It stops at the first maxCheckErrors problems.
type pageWalk struct {
	f        io.ReaderAt
	pageSize int
	hwm      uint64 // pages in use
	seen     map[uint64]bool
	problems []error
}

// walkPages checks that every page reachable from the file's meta page
// lies within the file and reads back as the branch or leaf page it must
// be, with its elements inside it.
func walkPages(path string) ([]error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 2*maxBoltPageSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	metas, why := validMetas(head[:n])
	if len(metas) == 0 {
		return []error{fmt.Errorf("neither meta page is valid (%s)", why)}, nil
	}
	m := metas[0]
	if len(metas) == 2 && metas[1].txid > m.txid {
		m = metas[1]
	}
	w := &pageWalk{f: f, pageSize: int(m.pageSize), hwm: m.pgid, seen: map[uint64]bool{}}
	w.tree(m.root, 0, "root")
	return w.problems, nil
}

func (w *pageWalk) report(format string, args ...any) {
	if len(w.problems) < maxCheckErrors {
		w.problems = append(w.problems, fmt.Errorf(format, args...))
	}
}

// tree checks the page id and everything below it.
func (w *pageWalk) tree(id uint64, depth int, from string) {
	if len(w.problems) >= maxCheckErrors {
		return
	}
	if depth > maxTreeDepth {
		w.report("page %d (from %s): tree deeper than %d levels", id, from, maxTreeDepth)
		return
	}
	if id < 2 || id >= w.hwm {
		w.report("page %d (from %s): out of bounds (the file has %d pages)", id, from, w.hwm)
		return
	}
	if w.seen[id] {
		w.report("page %d (from %s): referenced twice", id, from)
		return
	}
	w.seen[id] = true
	p := make([]byte, w.pageSize)
	if _, err := w.f.ReadAt(p, int64(id)*int64(w.pageSize)); err != nil {
		w.report("page %d: %v", id, err)
		return
	}
	if got := binary.NativeEndian.Uint64(p); got != id {
		w.report("page %d (from %s): header says page %d", id, from, got)
		return
	}
	if over := uint64(binary.NativeEndian.Uint32(p[12:])); over > 0 {
		if id+over >= w.hwm {
			w.report("page %d: %d overflow pages run past the %d pages in use", id, over, w.hwm)
			return
		}
		p = make([]byte, int(over+1)*w.pageSize)
		if _, err := w.f.ReadAt(p, int64(id)*int64(w.pageSize)); err != nil {
			w.report("page %d: %v", id, err)
			return
		}
	}
	w.page(p, id, depth)
}

// page checks one page's elements (p holds the page and its overflow)
// and walks its children.
func (w *pageWalk) page(p []byte, id uint64, depth int) {
	flags := binary.NativeEndian.Uint16(p[8:])
	count := int(binary.NativeEndian.Uint16(p[10:]))
	if boltPageHeader+count*pageElemSize > len(p) {
		w.report("page %d: %d elements do not fit in it", id, count)
		return
	}
	for i := range count {
		e := boltPageHeader + i*pageElemSize
		ne := binary.NativeEndian
		switch flags {
		case pageBranch:
			pos, ksize := int(ne.Uint32(p[e:])), int(ne.Uint32(p[e+4:]))
			if e+pos+ksize > len(p) {
				w.report("page %d: branch element %d points outside the page", id, i)
				return
			}
			w.tree(ne.Uint64(p[e+8:]), depth+1, fmt.Sprintf("page %d", id))
		case pageLeaf:
			eflags, pos, ksize, vsize := ne.Uint32(p[e:]), int(ne.Uint32(p[e+4:])), int(ne.Uint32(p[e+8:])), int(ne.Uint32(p[e+12:]))
			start := e + pos
			if pos < 0 || ksize < 0 || vsize < 0 || start+ksize+vsize > len(p) {
				w.report("page %d: leaf element %d points outside the page", id, i)
				return
			}
			if eflags&leafIsBucket != 0 {
				w.bucket(p[start+ksize:start+ksize+vsize], id, depth)
			}
		default:
			w.report("page %d: neither a branch nor a leaf page (flags %#x)", id, flags)
			return
		}
	}
}

// bucket checks a bucket value found on page id.
func (w *pageWalk) bucket(v []byte, id uint64, depth int) {
	if len(v) < 16 {
		w.report("page %d: bucket value of %d bytes", id, len(v))
		return
	}
	root := binary.NativeEndian.Uint64(v)
	if root != 0 {
		w.tree(root, depth+1, fmt.Sprintf("a bucket on page %d", id))
		return
	}
	inline := v[16:]
	if len(inline) < boltPageHeader || binary.NativeEndian.Uint16(inline[8:]) != pageLeaf {
		w.report("page %d: inline bucket is not a leaf page", id)
		return
	}
	w.page(inline, id, depth+1)
}
