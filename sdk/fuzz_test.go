package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
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

// FuzzLocalRun feeds arbitrary input and configuration, as a host could
// send them, through the plugin side's checks and decoding: Run never
// panics, succeeds only on input its schema accepts (the handler then sees
// exactly that input), fails otherwise with invalid_input or
// misconfigured, and never quotes the secret config value or secret input
// in an error.
func FuzzLocalRun(f *testing.F) {
	l, err := sdk.NewLocal(&sdk.Plugin{
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
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ in, cfg string }{
		{`{"name":"a"}`, `{"token":"tok-1234"}`},
		{`{"name":"a","count":3,"tags":["x"]}`, `{"token":"tok-1234"}`},
		{`{"name":"fail","pin":"9876"}`, `{"token":"tok-1234"}`},
		{`{"name":"a","count":"3"}`, `{"token":"tok-1234"}`},
		{`{"name":"a","count":1e400}`, `{}`},
		{`{"name":"a","pin":"9876","extra":1}`, `{"token":""}`},
		{`[]`, `{"token":"x"}`},
		{`{"name":"\ud800"}`, `null`},
		{``, `{"token":"tok-1234"}`},
	} {
		f.Add([]byte(seed.in), []byte(seed.cfg))
	}
	f.Fuzz(func(t *testing.T, input, rawConfig []byte) {
		cfg := sdk.Config{}
		if json.Unmarshal(rawConfig, &cfg) != nil {
			return
		}
		out, rerr := l.Run(context.Background(), "run_fuzz", "echo", cfg, input, nil)
		if rerr != nil {
			switch rerr.Code {
			case sdk.CodeInvalidInput, sdk.CodeMisconfigured:
			case sdk.CodeActionFailed:
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
