package store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestLoadSecretKey(t *testing.T) {
	want := bytes.Repeat([]byte{7}, 32)
	t.Run("env hex and base64", func(t *testing.T) {
		for _, v := range []string{
			hex.EncodeToString(want),
			base64.StdEncoding.EncodeToString(want),
			base64.RawURLEncoding.EncodeToString(want),
			" " + hex.EncodeToString(want) + "\n",
		} {
			got, err := store.LoadSecretKey(t.TempDir(), env(map[string]string{store.SecretKeyEnv: v}))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%q: %x, %v", v, got, err)
			}
		}
	})
	t.Run("env malformed", func(t *testing.T) {
		secretish := "not-a-key-but-secret-looking-" + strings.Repeat("z", 10)
		for _, v := range []string{secretish, hex.EncodeToString(want[:16]), base64.StdEncoding.EncodeToString(append(want, 1))} {
			_, err := store.LoadSecretKey(t.TempDir(), env(map[string]string{store.SecretKeyEnv: v}))
			if err == nil || !strings.Contains(err.Error(), store.SecretKeyEnv) {
				t.Errorf("%q: error %v does not name the variable", v, err)
				continue
			}
			if strings.Contains(err.Error(), v) {
				t.Errorf("error %q repeats the value", err)
			}
		}
	})
	t.Run("file created once 0600", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		k1, err := store.LoadSecretKey(dir, env(nil))
		if err != nil || len(k1) != 32 {
			t.Fatalf("first load: %x, %v", k1, err)
		}
		fi, err := os.Stat(filepath.Join(dir, store.SecretKeyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, %v", fi.Mode(), err)
		}
		k2, err := store.LoadSecretKey(dir, env(nil))
		if err != nil || !bytes.Equal(k1, k2) {
			t.Errorf("second load gave another key: %v", err)
		}
	})
	t.Run("file too open", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, store.SecretKeyFile)
		if err := os.WriteFile(path, []byte(hex.EncodeToString(want)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o644)
		_, err := store.LoadSecretKey(dir, env(nil))
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "0644") {
			t.Errorf("0644 key file: %v", err)
		}
	})
	t.Run("file malformed", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, store.SecretKeyFile)
		os.WriteFile(path, []byte("short"), 0o600)
		_, err := store.LoadSecretKey(dir, env(nil))
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("malformed key file: %v", err)
		}
	})
}
