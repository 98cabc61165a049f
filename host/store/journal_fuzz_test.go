package store

import (
	"bytes"
	"fmt"
	"testing"
)

// FuzzReadJournal feeds arbitrary bytes to the journal scan that replay
// uses: it must not panic, and what it returns must be records newer than
// applied, each once, in sequence order, each exactly as framed somewhere
// in the file.
func FuzzReadJournal(f *testing.F) {
	run := []byte(`{"id":"run_01J0000000000000000000000A","status":"running","action_id":"CA1"}`)
	two := appendRecord(nil, 7, [][]byte{run})
	two = appendRecord(two, 8, [][]byte{run, []byte(`{"id":"run_01J0000000000000000000000B","status":"failed"}`)})
	f.Add(two, uint64(0))
	f.Add(two[:len(two)-1], uint64(0))
	f.Add(append(appendRecord(nil, 3, [][]byte{run}), two...), uint64(2)) // a gap in the sequence
	f.Add(appendRecord(nil, 1, [][]byte{[]byte(`{"status":"queued"}`)}), uint64(0))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, applied uint64) {
		recs, damage := scanJournal(data, applied)
		for i, rec := range recs {
			if rec.seq <= applied {
				t.Fatalf("record %d: seq %d, already applied (%d)", i, rec.seq, applied)
			}
			if i > 0 && rec.seq <= recs[i-1].seq {
				t.Fatalf("record %d: seq %d after %d", i, rec.seq, recs[i-1].seq)
			}
			for _, r := range rec.runs {
				if r.ID == "" {
					t.Fatalf("record %d: a run without id", i)
				}
			}
			if !bytes.Contains(data, appendRecord(nil, rec.seq, rec.enc)) {
				t.Fatalf("record %d (seq %d) is not framed in the file", i, rec.seq)
			}
		}
		if damage.Lost < 0 || (damage.Lost > 0 && (damage.FirstSeq > damage.LastSeq || damage.FirstSeq <= applied)) {
			t.Fatalf("damage %+v after applied %d", damage, applied)
		}
	})
}

// FuzzReplayDamagedJournal writes a journal of n records, damages it
// (bytes overwritten with one value, or the file cut short) and replays
// it: every record whose bytes were not touched is recovered as written,
// and every record lost before the last one recovered is reported.
func FuzzReplayDamagedJournal(f *testing.F) {
	f.Add(uint8(30), uint32(1000), uint16(64), byte(0), false)
	f.Add(uint8(5), uint32(0), uint16(16), byte(0xff), false)
	f.Add(uint8(12), uint32(300), uint16(2000), byte(0x7b), false)
	f.Add(uint8(12), uint32(300), uint16(0), byte(0), true)
	f.Fuzz(func(t *testing.T, n uint8, off uint32, length uint16, fill byte, cut bool) {
		count := 1 + int(n%60)
		var data []byte
		type span struct{ start, end int }
		spans := make([]span, count)
		encs := make([][][]byte, count)
		for i := range count {
			var enc [][]byte
			for k := range 1 + i%2 {
				enc = append(enc, fmt.Appendf(nil, `{"id":"run_%026d","status":"succeeded","output":{"n":%d}}`, i*2+k, i))
			}
			start := len(data)
			data = appendRecord(data, uint64(i+1), enc)
			spans[i], encs[i] = span{start, len(data)}, enc
		}
		from := int(off % uint32(len(data)+1))
		to := min(len(data), from+int(length))
		if cut {
			data, to = data[:from], len(data)
		} else {
			for i := from; i < to; i++ {
				data[i] = fill
			}
		}
		touched := func(s span) bool { return s.start < to && from < s.end }
		recs, damage := scanJournal(data, 0)
		got := map[uint64]journalRecord{}
		for _, r := range recs {
			got[r.seq] = r
		}
		lastFound := uint64(0)
		for i, s := range spans {
			seq := uint64(i + 1)
			r, ok := got[seq]
			if ok {
				lastFound = seq
				if !equalEncs(r.enc, encs[i]) {
					t.Fatalf("record %d read back changed", seq)
				}
			}
			if !touched(s) && !ok {
				t.Fatalf("intact record %d (bytes %d–%d, damage %d–%d) not recovered", seq, s.start, s.end, from, to)
			}
		}
		missing := 0
		for seq := uint64(1); seq < lastFound; seq++ {
			if _, ok := got[seq]; !ok {
				missing++
				if seq < damage.FirstSeq || seq > damage.LastSeq {
					t.Fatalf("record %d lost but not reported (%+v)", seq, damage)
				}
			}
		}
		if damage.Lost != missing {
			t.Fatalf("damage reports %d lost, %d are missing before the last recovered", damage.Lost, missing)
		}
	})
}

func equalEncs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
