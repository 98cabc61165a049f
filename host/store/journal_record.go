package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"

	"go.etcd.io/bbolt"
)

// A journal record is one PutRuns call:
//
//	length  uint32  bytes of body
//	crc     uint32  CRC-32C of seq and body
//	seq     uint64  one more than the record before it
//	body    per run: uint32 length, then the run as stored in bbolt (JSON)
//
// all little endian. Records follow each other from the start of the file;
// replay takes every one that reads back whole and is newer than what
// bbolt holds, skipping damaged bytes (see scanJournal).
const recordHeader = 16

// maxRecordBody bounds a record's length field when reading, so that a
// damaged length cannot ask for a huge allocation.
const maxRecordBody = 1 << 30

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func appendRecord(buf []byte, seq uint64, enc [][]byte) []byte {
	n := 0
	for _, v := range enc {
		n += 4 + len(v)
	}
	start := len(buf)
	buf = slices.Grow(buf, recordHeader+n)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	buf = binary.LittleEndian.AppendUint32(buf, 0) // crc, sealRecord
	buf = binary.LittleEndian.AppendUint64(buf, 0) // seq, sealRecord
	for _, v := range enc {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(v)))
		buf = append(buf, v...)
	}
	sealRecord(buf[start:], seq)
	return buf
}

// sealRecord sets the seq of the record rec (as appendRecord made it) and
// its checksum.
func sealRecord(rec []byte, seq uint64) {
	binary.LittleEndian.PutUint64(rec[8:], seq)
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(rec[8:], castagnoli))
}

// recordSeq is the seq of the record at the start of buf.
func recordSeq(buf []byte) uint64 { return binary.LittleEndian.Uint64(buf[8:]) }

// journalRecord is a record read back from the file.
type journalRecord struct {
	seq  uint64
	runs []*Run // keys only (see runKeysOf)
	enc  [][]byte
}

// errEndOfJournal marks where the valid records end.
var errEndOfJournal = errors.New("end of journal")

// readRecord reads the record at the start of data and its size.
func readRecord(data []byte) (journalRecord, int, error) {
	if len(data) < recordHeader {
		return journalRecord{}, 0, errEndOfJournal
	}
	n := int(binary.LittleEndian.Uint32(data))
	if n == 0 || n > maxRecordBody || n > len(data)-recordHeader {
		return journalRecord{}, 0, errEndOfJournal
	}
	if crc32.Checksum(data[8:recordHeader+n], castagnoli) != binary.LittleEndian.Uint32(data[4:]) {
		return journalRecord{}, 0, errEndOfJournal
	}
	rec := journalRecord{seq: binary.LittleEndian.Uint64(data[8:])}
	body := data[recordHeader : recordHeader+n]
	for len(body) > 0 {
		if len(body) < 4 {
			return journalRecord{}, 0, errEndOfJournal
		}
		m := int(binary.LittleEndian.Uint32(body))
		if m > len(body)-4 {
			return journalRecord{}, 0, errEndOfJournal
		}
		v := body[4 : 4+m]
		r, err := decodeRunKeys(v)
		if err != nil || r.ID == "" {
			return journalRecord{}, 0, errEndOfJournal
		}
		rec.runs, rec.enc = append(rec.runs, r), append(rec.enc, v)
		body = body[4+m:]
	}
	return rec, recordHeader + n, nil
}

// replay copies into bbolt the records a stopped host left in f after the
// last one applied, then empties f. It returns the seq of the last record
// now applied and how many runs it recovered.
func (db *DB) replay(f *os.File) (applied uint64, recovered int, err error) {
	err = db.view(func(tx *bbolt.Tx) error {
		applied = getUint64(tx.Bucket(bucketMeta), metaJournalApplied)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, 0, fmt.Errorf("reading run journal: %w", err)
	}
	var entries []*jentry
	recs, damage := scanJournal(data, applied)
	db.journalDamage = damage
	for _, rec := range recs {
		for i, r := range rec.runs {
			entries = append(entries, &jentry{seq: rec.seq, run: r, enc: rec.enc[i]})
		}
	}
	if len(entries) > 0 {
		err = db.update(func(tx *bbolt.Tx) error { return applyEntries(tx, entries) })
		if err != nil {
			return 0, 0, fmt.Errorf("replaying run journal: %w", err)
		}
		applied = entries[len(entries)-1].seq
	}
	if len(data) > 0 {
		if err := truncateDurable(f); err != nil {
			return 0, 0, err
		}
	}
	return applied, len(entries), nil
}
