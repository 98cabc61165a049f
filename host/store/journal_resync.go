package store

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// JournalDamage describes what the last replay of the run journal could
// not read back: records (PutRuns calls) that were acknowledged, lie
// between records that were read, and whose bytes are damaged. Every
// record around them was recovered. The zero value means no damage.
type JournalDamage struct {
	Lost     int    // records missing from the sequence
	FirstSeq uint64 // the lowest missing sequence number
	LastSeq  uint64 // the highest missing sequence number
	Bytes    int64  // damaged bytes skipped to resynchronise
}

// String says what was lost, for logs and errors.
func (d JournalDamage) String() string {
	if d.Lost == 0 {
		return "no damage"
	}
	return fmt.Sprintf("%d journal record(s) damaged and lost (sequence %d–%d, %d bytes skipped)", d.Lost, d.FirstSeq, d.LastSeq, d.Bytes)
}

// JournalDamage returns what Open's replay of the run journal found
// damaged; its Lost is 0 when every record read back.
func (db *DB) JournalDamage() JournalDamage { return db.journalDamage }

// scanJournal finds every intact record in data that is newer than
// applied, in sequence order, and what is missing between them.
//
// A healthy file is a chain of records from offset 0, the newer ones
// first, then whatever older records the last rewind left behind (their
// sequence numbers are all lower). Damage (a bad sector, bytes zeroed or
// flipped) breaks a frame's length, CRC or run list; the scan then moves
// on a byte at a time until the next frame that reads back whole, so
// every intact record after the damage is recovered. A frame is taken
// when its sequence number is above applied and within what the file
// could hold, and only once: a rewind leaves older copies of the same
// records, which are identical.
//
// Missing sequence numbers count as damage only when unreadable bytes came
// before a record that was taken: a write that failed (and was never
// acknowledged) also leaves a gap in the sequence, but the next write then
// starts the file afresh at offset 0, with nothing unreadable before it.
// A damaged last record cannot be told from a torn write, and is not
// counted.
func scanJournal(data []byte, applied uint64) ([]journalRecord, JournalDamage) {
	var (
		recs       []journalRecord
		taken      = map[uint64]bool{}
		damage     JournalDamage
		badBytes   int64 // unreadable bytes since the last frame
		damaged    bool  // unreadable bytes came before a taken record
		maxRecords = uint64(len(data)/recordHeader) + 1
	)
	for pos := 0; pos+recordHeader <= len(data); {
		if size, ok := frameAt(data[pos:], maxRecords+applied); ok {
			rec, _, err := readRecord(data[pos:])
			if err == nil {
				if rec.seq > applied && !taken[rec.seq] {
					taken[rec.seq] = true
					recs = append(recs, rec)
					if badBytes > 0 {
						damaged = true
						damage.Bytes += badBytes
					}
				}
				badBytes = 0
				pos += size
				continue
			}
		}
		badBytes++
		pos++
	}
	slices.SortFunc(recs, func(a, b journalRecord) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if !damaged || len(recs) == 0 {
		return recs, JournalDamage{}
	}
	next := applied + 1
	for _, r := range recs {
		if r.seq > next {
			if damage.Lost == 0 {
				damage.FirstSeq = next
			}
			damage.Lost += int(r.seq - next)
			damage.LastSeq = r.seq - 1
		}
		next = r.seq + 1
	}
	if damage.Lost == 0 {
		damage.Bytes = 0 // damage only to copies that were found elsewhere
	}
	return recs, damage
}

// frameAt says whether data starts with a plausible frame header: a
// length that fits and a sequence number from 1 to maxSeq. It is cheap,
// so that the byte-by-byte resynchronisation computes a CRC only where a
// frame may be.
func frameAt(data []byte, maxSeq uint64) (size int, ok bool) {
	n := int(binary.LittleEndian.Uint32(data))
	if n == 0 || n > maxRecordBody || n > len(data)-recordHeader {
		return 0, false
	}
	seq := binary.LittleEndian.Uint64(data[8:])
	if seq == 0 || seq > maxSeq {
		return 0, false
	}
	return recordHeader + n, true
}
