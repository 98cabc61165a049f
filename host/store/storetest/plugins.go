package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func PluginSecretsSealedAtRest(t *testing.T, h Harness) {
	where := h.New(t)
	const secret = "s3cr3t-app-password-value"
	s := h.Open(t, where, Key)
	p := &domain.PluginRecord{
		Name:       "gmail",
		Path:       "/bin/gmail",
		SHA256:     "abc",
		Version:    "1.0.0",
		Config:     map[string]string{"gmailAppPassword": secret, "senderName": "Assistant"},
		SecretKeys: []string{"gmailAppPassword", "notSet"},
	}
	if err := s.Plugins().PutPlugin(bg, p); err != nil {
		t.Fatal(err)
	}
	if p.InstalledAt.IsZero() || p.UpdatedAt.IsZero() {
		t.Error("times not set")
	}
	got, err := s.Plugins().GetPlugin(bg, "gmail")
	if err != nil || got.Config["gmailAppPassword"] != secret || got.Config["senderName"] != "Assistant" {
		t.Fatalf("GetPlugin = %+v, %v", got, err)
	}
	s.Close()

	stored := h.AtRest(t, where)
	if bytes.Contains(stored, []byte(secret)) {
		t.Fatal("the secret value is stored in plaintext")
	}
	if !bytes.Contains(stored, []byte("Assistant")) {
		t.Fatal("the plain value is not among the stored bytes (is the scan working?)")
	}

	// Right key: the value comes back.
	s = h.Open(t, where, Key)
	got, err = s.Plugins().GetPlugin(bg, "gmail")
	if err != nil || got.Config["gmailAppPassword"] != secret {
		t.Fatalf("reopened: %+v, %v", got, err)
	}
	s.Close()

	// Wrong key or none: a clear error, never the value.
	for name, key := range map[string][]byte{"wrong key": bytes.Repeat([]byte{1}, 32), "no key": nil} {
		s := h.Open(t, where, key)
		_, err := s.Plugins().GetPlugin(bg, "gmail")
		if !errors.Is(err, store.ErrSecretKey) || !strings.Contains(err.Error(), "gmailAppPassword") {
			t.Errorf("%s: GetPlugin = %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret", name)
		}
		if _, err := s.Plugins().ListPlugins(bg); !errors.Is(err, store.ErrSecretKey) {
			t.Errorf("%s: ListPlugins = %v", name, err)
		}
		if name == "no key" {
			err := s.Plugins().PutPlugin(bg, &domain.PluginRecord{Name: "x", Config: map[string]string{"k": "v"}, SecretKeys: []string{"k"}})
			if !errors.Is(err, store.ErrSecretKey) {
				t.Errorf("PutPlugin with a secret and no key = %v", err)
			}
		}
		s.Close()
	}
}

func PluginsAndManifests(t *testing.T, h Harness) {
	s := h.open(t)
	for _, name := range []string{"slack", "gmail"} {
		if err := s.Plugins().PutPlugin(bg, &domain.PluginRecord{Name: name, Version: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := s.Plugins().GetPlugin(bg, "gmail")
	if err := s.Plugins().PutPlugin(bg, &domain.PluginRecord{Name: "gmail", Version: "2"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Plugins().GetPlugin(bg, "gmail")
	if got.Version != "2" || !got.InstalledAt.Equal(first.InstalledAt) {
		t.Errorf("update: %+v (installed first %v)", got, first.InstalledAt)
	}
	ps, err := s.Plugins().ListPlugins(bg)
	if err != nil || !sameStrings(ids(ps, func(p *domain.PluginRecord) string { return p.Name }), []string{"gmail", "slack"}) {
		t.Errorf("ListPlugins = %v, %v", ps, err)
	}
	if err := s.Plugins().DeletePlugin(bg, "slack"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plugins().GetPlugin(bg, "slack"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("GetPlugin(deleted) = %v", err)
	}
	if err := s.Plugins().DeletePlugin(bg, "slack"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("DeletePlugin(absent) = %v", err)
	}

	if _, err := s.Plugins().GetManifest(bg, "abc"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("GetManifest(absent) = %v", err)
	}
	if err := s.Plugins().PutManifest(bg, "abc", []byte(`{"actions":[]}`)); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Plugins().GetManifest(bg, "abc"); err != nil || string(m) != `{"actions":[]}` {
		t.Errorf("GetManifest = %s, %v", m, err)
	}
}
