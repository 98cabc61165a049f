package config_test

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/config"
)

func TestStoreBlock(t *testing.T) {
	env := func(name string) string {
		if name == "TOOLHOST_DATABASE_URL" {
			return "postgres://toolhost:pw@db.internal:5432/toolhost"
		}
		return ""
	}
	for _, tc := range []struct {
		src  string
		want config.Store
	}{
		{``, config.Store{Backend: "bbolt"}},
		{`store {}`, config.Store{Backend: "bbolt"}},
		{`store { backend = "bbolt" }`, config.Store{Backend: "bbolt"}},
		{"store {\n  backend = \"postgres\"\n  dsn = env(\"TOOLHOST_DATABASE_URL\")\n}",
			config.Store{Backend: "postgres", DSN: "postgres://toolhost:pw@db.internal:5432/toolhost"}},
		{`store { 
  backend = "postgres" 
  dsn = "host=/run/postgresql dbname=toolhost" 
}`, config.Store{Backend: "postgres", DSN: "host=/run/postgresql dbname=toolhost"}},
	} {
		cfg, err := config.Parse([]byte(tc.src), "plugins.hcl", env)
		if err != nil {
			t.Errorf("%s: %v", tc.src, err)
			continue
		}
		if cfg.Store != tc.want {
			t.Errorf("%s: store = %+v, want %+v", tc.src, cfg.Store, tc.want)
		}
	}
}

func TestStoreBlockBadInput(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"\n\nstore {\n  backend = \"mysql\"\n}", `plugins.hcl:3,1-6: Invalid store backend; store backend must be "bbolt" or "postgres", got "mysql"`},
		{"store {\n  backend = \"postgres\"\n}", `plugins.hcl:1,1-6: Missing store dsn`},
		{"store {\n  backend = \"postgres\"\n  dsn = env(\"TOOLHOST_DATABASE_URL\")\n}", `plugins.hcl:3,9-37: Missing store dsn; store backend "postgres" needs dsn`},
		{"store {\n  backend = \"postgres\"\n  dsn = [\"a\"]\n}", `plugins.hcl:3,9-14: Invalid store dsn`},
		{"store {\n  dsn = \"postgres://h/db\"\n}", `plugins.hcl:2,9-26: Invalid store block; store dsn is for backend = "postgres"`},
		{"store {\n  backend = 1\n  bogus = 2\n}", `plugins.hcl:3,3-8: Unsupported argument`},
		{"store {}\nstore {}", `plugins.hcl:2,1-6: Duplicate store block`},
	} {
		_, err := config.Parse([]byte(tc.src), "plugins.hcl", func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v\nwant it to contain %q", tc.src, err, tc.want)
		}
	}
}
