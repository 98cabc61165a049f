package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
)

// ErrDamaged is returned by Open when the database file cannot be used as
// it is: it is cut short, its meta pages are damaged, or it is empty next
// to a journal or secret key that show it once held data. The message
// names the file and what to do.
var ErrDamaged = errors.New("database file is damaged")

// The layout of bbolt's meta pages (go.etcd.io/bbolt/internal/common):
// a 16-byte page header, then magic, version, page size, flags (uint32
// each), the root bucket (root page, sequence), the freelist page, the
// high water mark (pgid: pages in use), the txid and an FNV-64a checksum
// of everything before it (uint64 each), in the machine's byte order.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	boltPageHeader  = 16
	boltMetaSize    = 64
	boltNoFreelist  = ^uint64(0)
	minBoltPageSize = 512
	maxBoltPageSize = 1 << 16
)

// boltMeta is a meta page as read from the file.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64
	txid     uint64
}

// readBoltMeta decodes the meta page at the start of p, or says why not.
func readBoltMeta(p []byte) (boltMeta, error) {
	if len(p) < boltPageHeader+boltMetaSize {
		return boltMeta{}, errors.New("too short for a meta page")
	}
	m := p[boltPageHeader : boltPageHeader+boltMetaSize]
	ne := binary.NativeEndian
	if ne.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("no bbolt magic number")
	}
	if v := ne.Uint32(m[4:]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != ne.Uint64(m[56:]) {
		return boltMeta{}, errors.New("checksum mismatch")
	}
	meta := boltMeta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}
	ps := meta.pageSize
	if ps < minBoltPageSize || ps > maxBoltPageSize || ps&(ps-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", ps)
	}
	if meta.root >= meta.pgid || (meta.freelist != boltNoFreelist && meta.freelist >= meta.pgid) {
		return boltMeta{}, fmt.Errorf("root page %d or freelist page %d beyond the %d pages in use", meta.root, meta.freelist, meta.pgid)
	}
	return meta, nil
}

// preflight checks the bbolt file in dir before bbolt maps it: bbolt
// trusts the file and, given one cut short or with damaged meta pages,
// panics or faults on a page beyond its end. A missing file is fine (Open
// creates it); so is an empty one in a directory that never held data.
// With one of the two meta pages damaged the file is usable (bbolt reads
// it as of the other, which may be a transaction older, and the next
// commit rewrites the damaged one): preflight says so in warning.
func preflight(dir string) (warning string, err error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return "", emptyFileCheck(dir, path)
	}
	// The first meta page tells the page size; the second sits one page
	// further. Read enough for the largest page size bbolt uses.
	head := make([]byte, 2*maxBoltPageSize)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	head = head[:n]
	metas, why := validMetas(head)
	if len(metas) == 0 {
		return "", damaged(path, fmt.Sprintf("neither meta page is valid (%s)", why))
	}
	// bbolt uses the valid meta page with the highest txid.
	m := metas[0]
	if len(metas) == 2 && metas[1].txid > m.txid {
		m = metas[1]
	}
	warning = ""
	if len(metas) == 1 {
		warning = fmt.Sprintf("one of the two meta pages of %s was damaged (%s); the file was read as of transaction %d, "+
			"so what the transaction after it wrote may be missing", path, why, m.txid)
	}
	if need := m.pgid * uint64(m.pageSize); need > uint64(size) || need/uint64(m.pageSize) != m.pgid {
		return "", damaged(path, fmt.Sprintf("the file is cut short: it has %d bytes, its meta page says %d pages of %d bytes (%d bytes)",
			size, m.pgid, m.pageSize, need))
	}
	return warning, nil
}

// validMetas returns the meta pages of head that read back valid, and
// why the others did not.
func validMetas(head []byte) ([]boltMeta, string) {
	m0, err0 := readBoltMeta(head)
	if err0 == nil {
		if int(m0.pageSize) >= len(head) {
			return []boltMeta{m0}, "second: beyond the end of the file"
		}
		m1, err1 := readBoltMeta(head[m0.pageSize:])
		if err1 == nil && m1.pageSize != m0.pageSize {
			err1 = fmt.Errorf("page size %d, the first says %d", m1.pageSize, m0.pageSize)
		}
		if err1 != nil {
			return []boltMeta{m0}, "second: " + err1.Error()
		}
		return []boltMeta{m0, m1}, ""
	}
	// Without the first, look for the second one page further, for each
	// page size bbolt may have used.
	for ps := minBoltPageSize; ps <= maxBoltPageSize && ps < len(head); ps *= 2 {
		if m1, err := readBoltMeta(head[ps:]); err == nil && int(m1.pageSize) == ps {
			return []boltMeta{m1}, "first: " + err0.Error()
		}
	}
	return nil, "first: " + err0.Error() + "; second: not found"
}

// emptyFileCheck refuses an empty bbolt file when the journal or the
// secret key file show that the directory held data: bbolt would
// silently make a new, empty database of it.
func emptyFileCheck(dir, path string) error {
	for _, name := range []string{JournalFileName, SecretKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return damaged(path, fmt.Sprintf("the file is empty (0 bytes) but %s exists next to it, so it held data; "+
				"if this data directory is new and never held anything, remove the empty %s", name, FileName))
		}
	}
	return nil
}

func damaged(path, why string) error {
	return &wrapped{
		Msg: fmt.Sprintf("database file %s is damaged: %s. Restore it from a backup (stop toolhost, copy the backup over it), "+
			"then run `toolhost db check`; toolhost did not change the file", path, why),
		Err: ErrDamaged,
	}
}

// recoverOpen turns a panic or a memory fault inside bbolt while opening
// the file into an error naming the file: a damaged page that passed
// preflight makes bbolt panic (it trusts its file). Deferred by Open with
// debug.SetPanicOnFault set, so that a fault on a mapped page that is not
// there becomes a panic too.
func recoverOpen(path string, err *error, oldFault bool) {
	debug.SetPanicOnFault(oldFault)
	if r := recover(); r != nil {
		*err = damaged(path, fmt.Sprintf("bbolt failed reading it (%v)", r))
	}
}
