package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func Keys(t *testing.T, h Harness) {
	where := h.New(t)
	s := h.Open(t, where, Key)

	plain, key, err := s.Keys().CreateKey(bg, "ci-bot.1")
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
	plain2, _, err := s.Keys().CreateKey(bg, "other")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("name rules", func(t *testing.T) {
		if _, _, err := s.Keys().CreateKey(bg, "ci-bot.1"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("duplicate name = %v", err)
		}
		for _, bad := range []string{"", "has space", "slash/", strings.Repeat("a", 65), "ünï"} {
			if _, _, err := s.Keys().CreateKey(bg, bad); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("CreateKey(%q) = %v", bad, err)
			}
		}
		if _, _, err := s.Keys().CreateKey(bg, strings.Repeat("a", 64)); err != nil {
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
			got, err := s.Keys().Authenticate(bg, tt.plain)
			if tt.want == "" {
				if !errors.Is(err, domain.ErrUnauthorized) || got != nil {
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
		keys, err := s.Keys().ListKeys(bg)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(keys, func(k *domain.APIKey) string { return k.Name }); !sameStrings(got, []string{strings.Repeat("a", 64), "ci-bot.1", "other"}) {
			t.Errorf("ListKeys = %v", got)
		}
		if n, err := s.Keys().CountKeys(bg); n != 3 || err != nil {
			t.Errorf("CountKeys = %d, %v", n, err)
		}
		if err := s.Keys().RevokeKey(bg, "other"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Keys().Authenticate(bg, plain2); !errors.Is(err, domain.ErrUnauthorized) {
			t.Errorf("revoked key authenticates: %v", err)
		}
		if err := s.Keys().RevokeKey(bg, "other"); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("RevokeKey(absent) = %v", err)
		}
		if n, _ := s.Keys().CountKeys(bg); n != 2 {
			t.Errorf("CountKeys after revoke = %d", n)
		}
	})
	mustCheck(t, s)

	// Last use is written in the background and survives a reopen.
	s.Close()
	s = h.Open(t, where, Key)
	keys, err := s.Keys().ListKeys(bg)
	if err != nil || len(keys) != 2 || keys[1].Name != "ci-bot.1" || keys[1].LastUsedAt == nil || keys[0].LastUsedAt != nil {
		t.Fatalf("after reopen: %+v, %v", keys, err)
	}

	// What is stored holds the digest only, never the plaintext.
	s.Close()
	file := h.AtRest(t, where)
	if bytes.Contains(file, []byte(plain)) || bytes.Contains(file, []byte(plain2)) || bytes.Contains(file, raw) {
		t.Error("a plaintext key is stored")
	}
	if !bytes.Contains(file, digest[:]) {
		t.Error("the key digest is not among the stored bytes (is the scan working?)")
	}
}

// TestKeyScopes: a key holds the scopes it was made with (none: all), in
// a fixed order without repeats, read back by Authenticate and ListKeys;
// an unknown scope is refused by name; a key stored before scopes existed
// holds them all.
func KeyScopes(t *testing.T, h Harness) {
	s := h.open(t)
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
		plain, k, err := s.Keys().CreateKey(bg, tt.name, tt.scopes...)
		if err != nil || !slices.Equal(k.Scopes, tt.want) {
			t.Fatalf("CreateKey(%s, %v) = %v, %v; want scopes %v", tt.name, tt.scopes, k, err, tt.want)
		}
		got, err := s.Keys().Authenticate(bg, plain)
		if err != nil || !slices.Equal(got.Scopes, tt.want) {
			t.Fatalf("Authenticate(%s) = %v, %v", tt.name, got, err)
		}
		for _, sc := range domain.Scopes {
			if got.Allows(sc) != slices.Contains(tt.want, sc) {
				t.Errorf("%s.Allows(%s) = %v", tt.name, sc, got.Allows(sc))
			}
		}
	}
	_, _, err := s.Keys().CreateKey(bg, "bad", "read", "write")
	if !errors.Is(err, domain.ErrInvalid) || !strings.Contains(err.Error(), `"write"`) {
		t.Fatalf("unknown scope: %v", err)
	}
	if keys, _ := s.Keys().ListKeys(bg); len(keys) != len(tests) {
		t.Fatalf("a refused key was stored: %d keys", len(keys))
	}
	old := &domain.APIKey{Name: "old"}
	for _, sc := range domain.DefaultScopes {
		if !old.Allows(sc) {
			t.Errorf("a key without scopes does not allow %s", sc)
		}
	}
	if old.Allows(domain.ScopeAudit) {
		t.Error("a key without scopes holds audit, which is only given by name")
	}
}
