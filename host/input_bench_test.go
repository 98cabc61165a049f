package host

import (
	"bytes"
	"testing"
)

// BenchmarkInputOutput64k is the host's JSON work on a run of a 64 KiB
// string: decode the Connery-form body, check the input, check the output.
func BenchmarkInputOutput64k(b *testing.B) {
	a := testAction(b)
	text := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 64<<10/36)
	body := []byte(`{"input":{"s":"` + string(text) + `"}}`)
	out := []byte(`{"s":"` + string(text) + `"}`)
	b.SetBytes(int64(len(body) + len(out)))
	b.ReportAllocs()
	for b.Loop() {
		in, _, err := a.DecodeRunBody(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.CheckInput(in); err != nil {
			b.Fatal(err)
		}
		if err := a.CheckOutput(out); err != nil {
			b.Fatal(err)
		}
	}
}
