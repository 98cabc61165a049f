package supervisor_test

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
)

// TestUnknownConfigKeySaysDidYouMean: a misspelt key makes the plugin
// misconfigured with the key it was meant to be, next to what is missing.
func TestUnknownConfigKeySaysDidYouMean(t *testing.T) {
	sp := spec("needsconfig")
	sp.Config = map[string]string{"regoin": "eu", "apiToken": "t", "Region": "x", "colour": "red"}
	s := newSupervisor(t, sp)
	p := s.Get("needsconfig")
	in := p.Info()
	if in.Status != supervisor.StatusMisconfigured {
		t.Fatalf("status %s (%s)", in.Status, in.Reason)
	}
	for _, want := range []string{
		`missing required configuration region`,
		`unknown config key "regoin" (did you mean "region"?)`,
		`unknown config key "Region" (did you mean "region"?)`,
		`unknown config key "colour" (it takes `,
	} {
		if !strings.Contains(in.Reason, want) {
			t.Errorf("reason %q lacks %q", in.Reason, want)
		}
	}
	_, err := run(t, p, "noop", `{}`)
	wantCode(t, err, domain.CodeMisconfigured, `did you mean "region"?`)

	// With nothing missing, an unknown key alone still says so.
	sp.Config = map[string]string{"region": "eu", "apiToken": "t", "apiTokne": "t"}
	p = newSupervisor(t, sp).Get("needsconfig")
	if in := p.Info(); in.Status != supervisor.StatusMisconfigured || !strings.Contains(in.Reason, `unknown config key "apiTokne" (did you mean "apiToken"?)`) {
		t.Fatalf("status %s, reason %q", in.Status, in.Reason)
	}
}
