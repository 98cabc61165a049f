package engine_test

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

type sendIn struct {
	To      []string `json:"to" title:"To"`
	Subject string   `json:"subject" title:"Subject"`
	Body    string   `json:"body" title:"Body"`
	Count   int      `json:"count,omitempty" title:"Count" jsonschema:"minimum=0,maximum=100"`
	Token   string   `json:"token,omitempty" title:"Token" toolhost:"secret"`
}

type sendOut struct {
	ID string `json:"id" title:"ID"`
}

// BenchmarkRun is the plugin side of a run, from the input bytes to the
// output bytes, with the input checked by the plugin (host-checked=no: an
// older host, sdktest) and decoded once into the handler's input because
// the host checked it (host-checked=yes).
func BenchmarkRun(b *testing.B) {
	l := local(b, sdk.Plugin{Name: "p", Title: "P", Version: "1", Actions: []sdk.Action{
		{Key: "echo", Title: "Echo", Type: sdk.Create, Handler: sdk.NewHandler(
			func(_ context.Context, in echoIO) (echoIO, error) { return echoIO{Text: in.Text}, nil })},
		{Key: "send", Title: "Send", Type: sdk.Create, Handler: sdk.NewHandler(
			func(_ context.Context, in sendIn) (sendOut, error) { return sendOut{ID: in.Subject}, nil })},
	}})
	cfg := l.Configure(nil)
	cases := []struct{ name, action, input string }{
		{"small", "send", `{"to":["ada@example.com","bob@example.com"],"subject":"Hello","body":"A short message body of a few words.","count":3,"token":"tok-123456"}`},
		{"echo64k", "echo", `{"text":"` + strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 64<<10/36) + `"}`},
	}
	for _, c := range cases {
		for _, checked := range []bool{false, true} {
			name := c.name + "/host-checked=no"
			if checked {
				name = c.name + "/host-checked=yes"
			}
			b.Run(name, func(b *testing.B) {
				input := []byte(c.input)
				b.SetBytes(int64(len(input)))
				b.ReportAllocs()
				for b.Loop() {
					if _, rerr := l.Run(context.Background(), "run_1", c.action, cfg, input, checked, nil); rerr != nil {
						b.Fatal(rerr)
					}
				}
			})
		}
	}
}
