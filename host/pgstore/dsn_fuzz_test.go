package pgstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzParseDSN: whatever the DSN around it, a password never shows in
// the error that refuses it.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"@127.0.0.1:5432/db", "@h:notaport/db", "@[::1:5432/db", "@h/db?sslmode=bogus", "@h/db?pool_max_conns=x",
		"@h:99999/db", "@/db?host=/run/postgresql", "@h/db?connect_timeout=-1", "@%zz/db", "@h 1/db"} {
		f.Add("s3cretpw", s)
	}
	f.Fuzz(func(t *testing.T, pw, rest string) {
		// A password as each form delimits it: in a URL before the '@'
		// that ends the user info, in key=value form a word.
		if len(pw) < 4 || strings.Contains(rest, pw) || strings.ContainsAny(pw, "@/:?#%\\'\" \t\n\r\f\v") ||
			!strings.HasPrefix(rest, "@") || strings.Count(rest, "@") > 1 {
			return
		}
		for _, dsn := range []string{"postgres://u:" + pw + rest, "password=" + pw + " host=" + rest[1:]} {
			_, err := parseDSN(dsn)
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Fatalf("parseDSN(%q): the error shows the password: %v", dsn, err)
			}
		}
	})
}

func TestReadMigrationsRefusesBadFiles(t *testing.T) {
	for _, tc := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"m/0001_init.sql": "", "m/1_x.sql": ""}, "1_x.sql: name must be NNNN_name.sql"},
		{map[string]string{"m/0001_init.sql": "", "m/0001_again.sql": ""}, "have the same version 1"},
		{map[string]string{"m/0002_Upper.sql": ""}, "0002_Upper.sql: name must be"},
	} {
		fsys := mapFS(tc.files)
		_, err := readMigrations(fsys, "m")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.files, err, tc.want)
		}
	}
	ms, err := Migrations()
	if err != nil || len(ms) == 0 || ms[0].Version != 1 {
		t.Fatalf("the embedded migrations: %v, %v", ms, err)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Fatalf("migrations out of order: %d after %d", ms[i].Version, ms[i-1].Version)
		}
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}
