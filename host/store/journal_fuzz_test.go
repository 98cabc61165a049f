package store

import (
	"bytes"
	"testing"
)

// FuzzReadJournal feeds arbitrary bytes to the journal reader: it must not
// panic, and what it returns must be exactly a prefix of the file, record
// for record, in sequence.
func FuzzReadJournal(f *testing.F) {
	run := []byte(`{"id":"run_01J0000000000000000000000A","status":"running","action_id":"CA1"}`)
	two := appendRecord(nil, 7, [][]byte{run})
	two = appendRecord(two, 8, [][]byte{run, []byte(`{"id":"run_01J0000000000000000000000B","status":"failed"}`)})
	f.Add(two)
	f.Add(two[:len(two)-1])
	f.Add(append(appendRecord(nil, 3, [][]byte{run}), two...)) // a gap in the sequence
	f.Add(appendRecord(nil, 1, [][]byte{[]byte(`{"status":"queued"}`)}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := readJournal(data)
		var again []byte
		for i, rec := range recs {
			if i > 0 && rec.seq != recs[i-1].seq+1 {
				t.Fatalf("record %d: seq %d after %d", i, rec.seq, recs[i-1].seq)
			}
			for _, r := range rec.runs {
				if r.ID == "" {
					t.Fatalf("record %d: a run without id", i)
				}
			}
			again = appendRecord(again, rec.seq, rec.enc)
		}
		if !bytes.HasPrefix(data, again) {
			t.Fatal("the records read back are not the start of the file")
		}
	})
}
