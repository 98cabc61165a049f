package sdk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
)

type echoIO struct {
	Text   string `json:"text" title:"Text"`
	Secret string `json:"secret,omitempty" title:"Secret" toolhost:"secret"`
}

// BenchmarkLocalRunEcho64k is the plugin side of a 64 KiB echo run: input
// check, secrets, typed decode, handler, output encode and check.
func BenchmarkLocalRunEcho64k(b *testing.B) {
	l, err := sdk.NewLocal(&sdk.Plugin{Name: "p", Title: "P", Version: "1", Actions: []sdk.Action{{
		Key: "echo", Title: "Echo", Type: sdk.Create,
		Handler: sdk.NewHandler(func(_ context.Context, in echoIO) (echoIO, error) { return echoIO{Text: in.Text}, nil }),
	}}})
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(`{"text":"` + strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 64<<10/36) + `"}`)
	b.SetBytes(int64(2 * len(input)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rerr := l.Run(context.Background(), "run_1", "echo", sdk.Config{}, input, nil); rerr != nil {
			b.Fatal(rerr)
		}
	}
}
