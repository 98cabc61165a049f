package sdk

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

type hintIn struct {
	Name string `json:"name"`
}

func hintHandler(context.Context, hintIn) (hintIn, error) { return hintIn{}, nil }

// TestManualStartHint: started by hand, a plugin says how to install it and
// how to configure the installed plugin, and the blocks it prints are HCL.
func TestManualStartHint(t *testing.T) {
	for _, tc := range []struct {
		config []ConfigParam
		want   []string
	}{
		{[]ConfigParam{{Key: "salutation", Title: "S", Required: true}, {Key: "extra", Title: "E"}},
			[]string{`config = { salutation = "..." }`, "Optional config keys: extra."}},
		{[]ConfigParam{{Key: "extra", Title: "E"}}, []string{`# config = { extra = "..." }`}},
		{nil, nil},
	} {
		p := &Plugin{Name: "hinted", Title: "Hinted", Description: "d", Version: "1.0.0", Config: tc.config,
			Actions: []Action{{Key: "go", Title: "Go", Description: "d", Type: Read, Handler: NewHandler(hintHandler)}}}
		var b bytes.Buffer
		if code := serve(p, &b); code != 1 { // started by hand: the hint, exit 1
			t.Fatalf("serve by hand = %d, want 1:\n%s", code, b.String())
		}
		out := b.String()
		for _, w := range append(tc.want, "toolhost plugin install ", "with a block without path:\n    plugin \"hinted\" {") {
			if !strings.Contains(out, w) {
				t.Errorf("hint lacks %q:\n%s", w, out)
			}
		}
		// Every indented block parses as HCL.
		var blocks []string
		var cur []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "    plugin ") || (len(cur) > 0 && strings.HasPrefix(line, "    ")) {
				cur = append(cur, line)
				if strings.TrimSpace(line) == "}" {
					blocks = append(blocks, strings.Join(cur, "\n"))
					cur = nil
				}
			}
		}
		if len(blocks) != 2 {
			t.Fatalf("want 2 plugin blocks in:\n%s", out)
		}
		for _, blk := range blocks {
			if _, diags := hclsyntax.ParseConfig([]byte(blk), "hint.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Errorf("block is not HCL: %v\n%s", diags, blk)
			}
		}
	}
}
