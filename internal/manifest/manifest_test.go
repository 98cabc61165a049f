package manifest_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/manifest"
)

const good = `{"name":"mail","title":"Mail","description":"d","version":"1.0.0",
"configurationParameters":[{"key":"token","title":"Token","type":"string","required":true,"secret":true}],
"actions":[{"key":"send","title":"Send","description":"Send it.","type":"create",
 "inputSchema":{"type":"object","properties":{"to":{"type":"string","title":"To","description":"Who."},"n":{"type":"integer"}},"required":["to"]},
 "outputSchema":{"type":"object","properties":{"id":{"type":"string"}}},
 "secretInputs":["n"]}]}`

func TestDecodeGood(t *testing.T) {
	m, err := manifest.Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	in, _ := manifest.ParseSchema(m.Actions[0].InputSchema)
	params := in.Params()
	if len(params) != 2 || params[0].Key != "to" || !params[0].Validation.Required || params[1].Title != "n" || params[1].Validation.Required {
		t.Fatalf("params %+v", params)
	}
}

// TestDecodeBad changes one thing at a time and checks the error names it.
func TestDecodeBad(t *testing.T) {
	cases := []struct {
		name, from, to string
		want           []string
	}{
		{"not json", `{"name"`, `{"name`, []string{"invalid plugin manifest"}},
		{"bad plugin name", `"name":"mail"`, `"name":"Mail Plugin"`, []string{"name", "Mail Plugin"}},
		{"empty title", `"title":"Mail"`, `"title":" "`, []string{"title is empty"}},
		{"bad action key", `"key":"send"`, `"key":"Send-It"`, []string{`actions[0] ("Send-It")`, "key must match"}},
		{"long action key", `"key":"send"`, `"key":"` + strings.Repeat("a", 51) + `"`, []string{"at most 50"}},
		{"bad type", `"type":"create"`, `"type":"explode"`, []string{`type "explode"`}},
		{"schema not object", `"inputSchema":{"type":"object"`, `"inputSchema":{"type":"array"`, []string{"inputSchema", "object"}},
		{"property type", `"n":{"type":"integer"}`, `"n":{"type":"date"}`, []string{"inputSchema", "properties.n"}},
		{"required undefined", `"required":["to"]`, `"required":["nope"]`, []string{`required property "nope"`}},
		{"secret not input", `"secretInputs":["n"]`, `"secretInputs":["zz"]`, []string{`secretInputs: "zz"`}},
		{"config type", `"type":"string","required":true`, `"type":"number","required":true`, []string{"configurationParameters[0]", "number"}},
		{"wrong field type", `"version":"1.0.0"`, `"version":1`, []string{"version"}},
		{"no actions", `"actions":[{`, `"actions":[],"x":[{`, []string{"at least one action"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(good, c.from, c.to, 1)
			if src == good {
				t.Fatalf("case did not change the manifest")
			}
			_, err := manifest.Decode([]byte(src))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("not ErrInvalid: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDuplicateKeys(t *testing.T) {
	var m manifest.Plugin
	json.Unmarshal([]byte(good), &m)
	m.Actions = append(m.Actions, m.Actions[0])
	m.Config = append(m.Config, m.Config[0])
	err := m.Validate()
	if err == nil || strings.Count(err.Error(), "duplicate key") != 2 {
		t.Fatalf("err %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"name":"a","title":"A","actions":[{"key":"b","title":"B","type":"read","inputSchema":{"type":"object","properties":{"x":{"type":"string"}}},"outputSchema":{"type":"object"}}]}`))
	f.Add([]byte(`{"actions":[{"inputSchema":{"type":"object","properties":[]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := manifest.Decode(data)
		if err != nil {
			if !errors.Is(err, manifest.ErrInvalid) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		// A manifest that decodes survives a round trip.
		again, _ := json.Marshal(m)
		if _, err := manifest.Decode(again); err != nil {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
