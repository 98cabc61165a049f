package store_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
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

func TestPluginSecretsSealedAtRest(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cr3t-app-password-value"
	db := openDB(t, dir)
	p := &store.PluginRecord{
		Name:       "gmail",
		Path:       "/bin/gmail",
		SHA256:     "abc",
		Version:    "1.0.0",
		Config:     map[string]string{"gmailAppPassword": secret, "senderName": "Assistant"},
		SecretKeys: []string{"gmailAppPassword", "notSet"},
	}
	if err := db.Plugins().PutPlugin(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if p.InstalledAt.IsZero() || p.UpdatedAt.IsZero() {
		t.Error("times not set")
	}
	got, err := db.Plugins().GetPlugin(context.Background(), "gmail")
	if err != nil || got.Config["gmailAppPassword"] != secret || got.Config["senderName"] != "Assistant" {
		t.Fatalf("GetPlugin = %+v, %v", got, err)
	}
	db.Close()

	file, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(secret)) {
		t.Fatal("the secret value is in the database file")
	}
	if !bytes.Contains(file, []byte("Assistant")) {
		t.Fatal("the plain value is not in the file (is the scan working?)")
	}

	// Right key: the value comes back.
	db = openDB(t, dir)
	got, err = db.Plugins().GetPlugin(context.Background(), "gmail")
	if err != nil || got.Config["gmailAppPassword"] != secret {
		t.Fatalf("reopened: %+v, %v", got, err)
	}
	db.Close()

	// Wrong key or none: a clear error, never the value.
	for name, key := range map[string][]byte{"wrong key": bytes.Repeat([]byte{1}, 32), "no key": nil} {
		db, err := store.Open(dir, store.Options{SecretKey: key})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Plugins().GetPlugin(context.Background(), "gmail")
		if !errors.Is(err, store.ErrSecretKey) || !strings.Contains(err.Error(), "gmailAppPassword") {
			t.Errorf("%s: GetPlugin = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret", name)
		}
		if _, err := db.Plugins().ListPlugins(context.Background()); !errors.Is(err, store.ErrSecretKey) {
			t.Errorf("%s: ListPlugins = %v", name, err)
		}
		if name == "no key" {
			err := db.Plugins().PutPlugin(context.Background(), &store.PluginRecord{Name: "x", Config: map[string]string{"k": "v"}, SecretKeys: []string{"k"}})
			if !errors.Is(err, store.ErrSecretKey) {
				t.Errorf("PutPlugin with a secret and no key = %v", err)
			}
		}
		db.Close()
	}
}

func TestPluginsCRUDAndManifests(t *testing.T) {
	db := openDB(t, "")
	for _, name := range []string{"slack", "gmail"} {
		if err := db.Plugins().PutPlugin(context.Background(), &store.PluginRecord{Name: name, Version: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := db.Plugins().GetPlugin(context.Background(), "gmail")
	if err := db.Plugins().PutPlugin(context.Background(), &store.PluginRecord{Name: "gmail", Version: "2"}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Plugins().GetPlugin(context.Background(), "gmail")
	if got.Version != "2" || !got.InstalledAt.Equal(first.InstalledAt) {
		t.Errorf("update: %+v (installed first %v)", got, first.InstalledAt)
	}
	ps, err := db.Plugins().ListPlugins(context.Background())
	if err != nil || !sameStrings(ids(ps, func(p *store.PluginRecord) string { return p.Name }), []string{"gmail", "slack"}) {
		t.Errorf("ListPlugins = %v, %v", ps, err)
	}
	if err := db.Plugins().DeletePlugin(context.Background(), "slack"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Plugins().GetPlugin(context.Background(), "slack"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPlugin(deleted) = %v", err)
	}
	if err := db.Plugins().DeletePlugin(context.Background(), "slack"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePlugin(absent) = %v", err)
	}

	if _, err := db.Plugins().GetManifest(context.Background(), "abc"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetManifest(absent) = %v", err)
	}
	if err := db.Plugins().PutManifest(context.Background(), "abc", []byte(`{"actions":[]}`)); err != nil {
		t.Fatal(err)
	}
	if m, err := db.Plugins().GetManifest(context.Background(), "abc"); err != nil || string(m) != `{"actions":[]}` {
		t.Errorf("GetManifest = %s, %v", m, err)
	}
}
