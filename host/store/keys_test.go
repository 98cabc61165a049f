package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)

	plain, key, err := db.Keys().CreateKey(context.Background(), "ci-bot.1")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(plain, store.KeyPrefix))
	if !strings.HasPrefix(plain, "th_") || err != nil || len(raw) != 24 {
		t.Fatalf("plaintext %q is not th_ + base64url of 24 bytes (%v)", plain, err)
	}
	digest := sha256.Sum256([]byte(plain))
	if !bytes.Equal(key.Digest, digest[:]) || !strings.HasPrefix(plain, key.Prefix) || len(key.Prefix) < 6 || len(key.Prefix) > 12 {
		t.Errorf("key = %+v", key)
	}
	plain2, _, err := db.Keys().CreateKey(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("name rules", func(t *testing.T) {
		if _, _, err := db.Keys().CreateKey(context.Background(), "ci-bot.1"); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name = %v", err)
		}
		for _, bad := range []string{"", "has space", "slash/", strings.Repeat("a", 65), "ünï"} {
			if _, _, err := db.Keys().CreateKey(context.Background(), bad); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateKey(%q) = %v", bad, err)
			}
		}
		if _, _, err := db.Keys().CreateKey(context.Background(), strings.Repeat("a", 64)); err != nil {
			t.Errorf("64-char name: %v", err)
		}
	})

	t.Run("authenticate", func(t *testing.T) {
		wrong := plain[:len(plain)-1] + "A"
		if wrong == plain {
			wrong = plain[:len(plain)-1] + "B"
		}
		tests := []struct {
			name, plain, want string
		}{
			{"ok", plain, "ci-bot.1"},
			{"other ok", plain2, "other"},
			{"wrong", wrong, ""},
			{"no prefix", strings.TrimPrefix(plain, "th_"), ""},
			{"empty", "", ""},
			{"digest as key", string(key.Digest), ""},
		}
		for _, tt := range tests {
			got, err := db.Keys().Authenticate(context.Background(), tt.plain)
			if tt.want == "" {
				if !errors.Is(err, store.ErrUnauthorized) || got != nil {
					t.Errorf("%s: Authenticate = %v, %v", tt.name, got, err)
				}
				continue
			}
			if err != nil || got.Name != tt.want || got.LastUsedAt == nil {
				t.Errorf("%s: Authenticate = %+v, %v", tt.name, got, err)
			}
		}
	})

	t.Run("list count revoke", func(t *testing.T) {
		keys, err := db.Keys().ListKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(keys, func(k *store.APIKey) string { return k.Name }); !sameStrings(got, []string{strings.Repeat("a", 64), "ci-bot.1", "other"}) {
			t.Errorf("ListKeys = %v", got)
		}
		if n, err := db.Keys().CountKeys(context.Background()); n != 3 || err != nil {
			t.Errorf("CountKeys = %d, %v", n, err)
		}
		if err := db.Keys().RevokeKey(context.Background(), "other"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Keys().Authenticate(context.Background(), plain2); !errors.Is(err, store.ErrUnauthorized) {
			t.Errorf("revoked key authenticates: %v", err)
		}
		if err := db.Keys().RevokeKey(context.Background(), "other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeKey(absent) = %v", err)
		}
		if n, _ := db.Keys().CountKeys(context.Background()); n != 2 {
			t.Errorf("CountKeys after revoke = %d", n)
		}
	})
	mustCheck(t, db)

	// Last use is written in the background and survives a reopen.
	db.Close()
	db = openDB(t, dir)
	keys, err := db.Keys().ListKeys(context.Background())
	if err != nil || len(keys) != 2 || keys[1].Name != "ci-bot.1" || keys[1].LastUsedAt == nil || keys[0].LastUsedAt != nil {
		t.Fatalf("after reopen: %+v, %v", keys, err)
	}

	// The file holds the digest only, never the plaintext.
	db.Close()
	file, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, []byte(plain)) || bytes.Contains(file, []byte(plain2)) || bytes.Contains(file, raw) {
		t.Error("a plaintext key is in the database file")
	}
	if !bytes.Contains(file, digest[:]) {
		t.Error("the key digest is not in the database file (is the scan working?)")
	}
}

// TestKeyScopes: a key holds the scopes it was made with (none: all), in
// a fixed order without repeats, read back by Authenticate and ListKeys;
// an unknown scope is refused by name; a key stored before scopes existed
// holds them all.
func TestKeyScopes(t *testing.T) {
	db := openDB(t, "")
	tests := []struct {
		name   string
		scopes []string
		want   []string
	}{
		{"all", nil, []string{"read", "run", "admin"}},
		{"reader", []string{"read"}, []string{"read"}},
		{"runner", []string{"run", "read", "run"}, []string{"read", "run"}},
	}
	for _, tt := range tests {
		plain, k, err := db.Keys().CreateKey(context.Background(), tt.name, tt.scopes...)
		if err != nil || !slices.Equal(k.Scopes, tt.want) {
			t.Fatalf("CreateKey(%s, %v) = %v, %v; want scopes %v", tt.name, tt.scopes, k, err, tt.want)
		}
		got, err := db.Keys().Authenticate(context.Background(), plain)
		if err != nil || !slices.Equal(got.Scopes, tt.want) {
			t.Fatalf("Authenticate(%s) = %v, %v", tt.name, got, err)
		}
		for _, s := range store.Scopes {
			if got.Allows(s) != slices.Contains(tt.want, s) {
				t.Errorf("%s.Allows(%s) = %v", tt.name, s, got.Allows(s))
			}
		}
	}
	_, _, err := db.Keys().CreateKey(context.Background(), "bad", "read", "write")
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), `"write"`) {
		t.Fatalf("unknown scope: %v", err)
	}
	if keys, _ := db.Keys().ListKeys(context.Background()); len(keys) != len(tests) {
		t.Fatalf("a refused key was stored: %d keys", len(keys))
	}
	old := &store.APIKey{Name: "old"}
	for _, s := range domain.DefaultScopes {
		if !old.Allows(s) {
			t.Errorf("a key without scopes does not allow %s", s)
		}
	}
	if old.Allows(domain.ScopeAudit) {
		t.Error("a key without scopes holds audit, which is only given by name")
	}
}
