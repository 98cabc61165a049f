package store_test

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

// FuzzLoadSecretKey feeds TOOLHOST_SECRET_KEY values: a key is 32 bytes,
// and an error names the variable and does not depend on the value
// beyond its length (so it cannot leak it).
func FuzzLoadSecretKey(f *testing.F) {
	for _, seed := range []string{
		"0707070707070707070707070707070707070707070707070707070707070707",
		"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
		"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc",
		"secret-looking-but-wrong", "", "====", "zz",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, v string) {
		key, err := store.LoadSecretKey(dir, env(map[string]string{store.SecretKeyEnv: v}))
		if err != nil {
			if !strings.Contains(err.Error(), store.SecretKeyEnv) {
				t.Errorf("error %q does not name the variable", err)
			}
			// The message may depend on the length, never on the content.
			other := strings.Repeat("!", len(strings.TrimSpace(v)))
			_, err2 := store.LoadSecretKey(dir, env(map[string]string{store.SecretKeyEnv: other}))
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("error %q depends on the value (same length gives %v)", err, err2)
			}
			return
		}
		if len(key) != store.SecretKeySize {
			t.Errorf("key of %d bytes", len(key))
		}
	})
}
