package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/internal/engine"
)

type fuzzIn struct {
	Name  string   `json:"name" title:"Name"`
	Count int      `json:"count,omitempty" title:"Count" jsonschema:"minimum=0,maximum=100"`
	Tags  []string `json:"tags,omitempty" title:"Tags"`
	Pin   string   `json:"pin,omitempty" title:"PIN" toolhost:"secret"`
}

type fuzzOut struct {
	Name  string `json:"name" title:"Name"`
	Count int    `json:"count" title:"Count"`
}

func fuzzPlugin(f *testing.F) *engine.Local {
	return local(f, sdk.Plugin{
		Name: "p", Title: "P", Version: "1",
		Config: []sdk.ConfigParam{{Key: "token", Title: "Token", Required: true, Secret: true}},
		Actions: []sdk.Action{{Key: "echo", Title: "Echo", Type: sdk.Read, Handler: sdk.NewHandler(
			func(ctx context.Context, in fuzzIn) (fuzzOut, error) {
				if in.Name == "fail" {
					return fuzzOut{}, fmt.Errorf("failed with %s and %s", sdk.ConfigFrom(ctx).Get("token"), in.Pin)
				}
				return fuzzOut{Name: in.Name, Count: in.Count}, nil
			})}},
	})
}

var fuzzSeeds = []struct{ in, cfg string }{
	{`{"name":"a"}`, `{"token":"tok-1234"}`},
	{`{"name":"a","count":3,"tags":["x"]}`, `{"token":"tok-1234"}`},
	{`{"name":"fail","pin":"9876"}`, `{"token":"tok-1234"}`},
	{`{"name":"a","count":"3"}`, `{"token":"tok-1234"}`},
	{`{"name":"a","count":1e400}`, `{}`},
	{`{"name":"a","pin":"9876","extra":1}`, `{"token":""}`},
	{`[]`, `{"token":"x"}`},
	{`{"name":"\ud800"}`, `null`},
	{`{"name":"a","count":2.0}`, `{"token":"tok-1234"}`},
	{`{"name":"a","Name":"b"}`, `{"token":"tok-1234"}`},
	{``, `{"token":"tok-1234"}`},
}

// fuzzRuns fuzzes check with fuzzPlugin, input and a configuration from
// the seeds on.
func fuzzRuns(f *testing.F, check func(t *testing.T, l *engine.Local, input []byte, cfg map[string]string)) {
	l := fuzzPlugin(f)
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed.in), []byte(seed.cfg))
	}
	f.Fuzz(func(t *testing.T, input, rawConfig []byte) {
		if cfg, err := engine.DecodeConfig(rawConfig); err == nil {
			check(t, l, input, cfg)
		}
	})
}

// FuzzLocalRun feeds arbitrary input and configuration, as a host that does
// not check input could send them, through the plugin side's checks and
// decoding: Run never panics, succeeds only on input its schema accepts
// (the handler then sees exactly that input), fails otherwise with
// invalid_input or misconfigured, and never quotes the secret config value
// or secret input in an error.
func FuzzLocalRun(f *testing.F) {
	fuzzRuns(f, func(t *testing.T, l *engine.Local, input []byte, cfg map[string]string) {
		out, rerr := l.Run(context.Background(), "run_fuzz", "echo", l.Configure(cfg), input, false, nil)
		if rerr != nil {
			switch rerr.Code {
			case engine.CodeInvalidInput, engine.CodeMisconfigured:
			case engine.CodeActionFailed:
				var in fuzzIn
				_ = json.Unmarshal(input, &in)
				for _, secret := range []string{cfg["token"], in.Pin} {
					if len(secret) >= 4 && strings.Contains(rerr.Message, secret) {
						t.Fatalf("secret %q in the error: %q", secret, rerr.Message)
					}
				}
			default:
				t.Fatalf("unexpected failure %s: %s", rerr.Code, rerr.Message)
			}
			return
		}
		var in fuzzIn
		if err := json.Unmarshal(input, &in); err != nil {
			t.Fatalf("Run accepted input that does not decode: %v", err)
		}
		if in.Count < 0 || in.Count > 100 {
			t.Fatalf("Run accepted count %d outside its schema", in.Count)
		}
		var got fuzzOut
		if err := json.Unmarshal(out, &got); err != nil || got.Name != in.Name || got.Count != in.Count {
			t.Fatalf("output %s for input %s", out, input)
		}
	})
}

// FuzzCheckedRun holds the one-pass decode to the checked one: for input
// the schema accepts (what a host that checked it sends), a run told the
// host checked it ends exactly as one that checks it again: same output,
// or same error code and message. Input the schema rejects, sent with the
// flag by a faulty host, still never panics the plugin and never reaches
// the handler as anything but a decoded fuzzIn.
func FuzzCheckedRun(f *testing.F) {
	fuzzRuns(f, func(t *testing.T, l *engine.Local, input []byte, cfg map[string]string) {
		c := l.Configure(cfg)
		checkedOut, checkedErr := l.Run(context.Background(), "run_fuzz", "echo", c, input, true, nil)
		out, rerr := l.Run(context.Background(), "run_fuzz", "echo", c, input, false, nil)
		if rerr != nil && rerr.Code == engine.CodeInvalidInput {
			return // the host would not have sent it
		}
		switch {
		case (rerr == nil) != (checkedErr == nil):
			t.Fatalf("checked: %s %+v; unchecked: %s %+v", checkedOut, checkedErr, out, rerr)
		case rerr != nil && *rerr != *checkedErr:
			t.Fatalf("checked error %+v, unchecked %+v", checkedErr, rerr)
		case !bytes.Equal(out, checkedOut):
			t.Fatalf("checked output %s, unchecked %s", checkedOut, out)
		}
	})
}

// FuzzDecodeConfig feeds arbitrary bytes as the configuration a host
// sends with Configure: decoding never panics and gives either an error or
// a non-nil map, which Configure accepts.
func FuzzDecodeConfig(f *testing.F) {
	l := fuzzPlugin(f)
	for _, seed := range []string{`{"token":"x"}`, `null`, `{}`, `{"token":1}`, `[]`, ``, `{"a":"b","a":"c"}`, `"x"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := engine.DecodeConfig(raw)
		if err != nil {
			return
		}
		if cfg == nil {
			t.Fatal("nil configuration without an error")
		}
		_ = l.Configure(cfg)
		_ = l.CheckConfig(cfg)
	})
}
