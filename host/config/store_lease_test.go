package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

func TestStoreLease(t *testing.T) {
	src := "store {\n  backend = \"postgres\"\n  dsn = \"host=/run/postgresql\"\n  lease = \"5s\"\n}"
	cfg, err := config.Parse([]byte(src), "plugins.hcl", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Lease != 5*time.Second {
		t.Fatalf("lease = %s, want 5s", cfg.Store.Lease)
	}
}

func TestStoreLeaseBadInput(t *testing.T) {
	pg := "store {\n  backend = \"postgres\"\n  dsn = \"host=/run/postgresql\"\n  lease = %s\n}"
	for _, tc := range []struct{ src, want string }{
		{strings.Replace(pg, "%s", `"10ms"`, 1), `plugins.hcl:4,11-17: Invalid store lease; store lease must be at least 300ms`},
		{strings.Replace(pg, "%s", `"soon"`, 1), `plugins.hcl:4,11-17: Invalid duration; store lease = "soon" is not a positive duration`},
		{strings.Replace(pg, "%s", `15`, 1), `plugins.hcl:4,11-13: Invalid duration; store lease must be a duration string`},
		{"store {\n  lease = \"5s\"\n}", `plugins.hcl:2,11-15: Invalid store block; store lease is for backend = "postgres"`},
	} {
		_, err := config.Parse([]byte(tc.src), "plugins.hcl", func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v\nwant it to contain %q", tc.src, err, tc.want)
		}
	}
}
