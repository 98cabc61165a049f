package core

import (
	"bytes"
	"testing"
)

// BenchmarkInputOutput64k is the host's JSON work on a run of a 64 KiB
// string: decode the Connery-form body, check the input, check the output.
func BenchmarkInputOutput64k(b *testing.B) {
	text := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 64<<10/36)
	benchInputOutput(b, `{"input":{"s":"`+string(text)+`"}}`, `{"s":"`+string(text)+`"}`)
}

// BenchmarkInputOutputSmall is the same for a small run of several types,
// sent flat with Connery-style strings.
func BenchmarkInputOutputSmall(b *testing.B) {
	benchInputOutput(b, `{"s":"hello","n":"2.5","i":"10","b":"true","a":["x","y"],"o":{"k":1}}`, `{"ok":true}`)
}

func benchInputOutput(b *testing.B, body, out string) {
	a := testAction(b)
	b.SetBytes(int64(len(body) + len(out)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := a.decodeArgs([]byte(body), false)
		in := d.input
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.CheckInput(in); err != nil {
			b.Fatal(err)
		}
		if err := a.CheckOutput([]byte(out)); err != nil {
			b.Fatal(err)
		}
	}
}
