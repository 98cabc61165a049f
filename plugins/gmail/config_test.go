package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

func TestLoadSettingsDefaults(t *testing.T) {
	s, err := loadSettings(sdk.Config{keyEmailAddress: " Me <me@gmail.com> ", keyAppPassword: "abcd efgh ijkl mnop"})
	if err != nil {
		t.Fatal(err)
	}
	want := settings{
		address: "me@gmail.com", password: "abcdefghijklmnop",
		smtpHost: "smtp.gmail.com", smtpPort: 587, smtpTLS: tlsStartTLS,
		imapHost: "imap.gmail.com", imapPort: 993,
	}
	if *s != want {
		t.Errorf("settings %+v, want %+v", *s, want)
	}

	s, err = loadSettings(sdk.Config{keyEmailAddress: "me@gmail.com", keyAppPassword: "pw with spaces", keySMTPTLS: "TLS"})
	if err != nil {
		t.Fatal(err)
	}
	if s.smtpPort != 465 || s.smtpTLS != tlsImplicit || s.password != "pw with spaces" {
		t.Errorf("implicit TLS: port %d mode %q password %q; want 465, tls and the password unchanged", s.smtpPort, s.smtpTLS, s.password)
	}
}

func TestCheckConfigProblems(t *testing.T) {
	pki := newTestPKI(t)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(kv ...string) sdk.Config {
		c := sdk.Config{keyEmailAddress: "me@gmail.com", keyAppPassword: "secretpassword"}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i]] = kv[i+1]
		}
		return c
	}
	tests := []struct {
		name  string
		cfg   sdk.Config
		wants []string // substrings of the problem; none means valid
	}{
		{"gmail defaults", base(), nil},
		{"local relay without TLS", base(keySMTPHost, "localhost", keySMTPTLS, "none", keySMTPPort, "2525"), nil},
		{"IPv6 loopback without TLS", base(keySMTPHost, "::1", keySMTPTLS, "none"), nil},
		{"CA bundle", base(keyRootCAFile, pki.caFile), nil},
		{"bad address", base(keyEmailAddress, "me-at-gmail"), []string{keyEmailAddress, `"me-at-gmail"`}},
		{"port not a number", base(keySMTPPort, "smtp"), []string{keySMTPPort, `"smtp"`, "1-65535"}},
		{"port out of range", base(keyIMAPPort, "70000"), []string{keyIMAPPort, "70000"}},
		{"port zero", base(keySMTPPort, "0"), []string{keySMTPPort}},
		{"unknown TLS mode", base(keySMTPTLS, "ssl"), []string{keySMTPTLS, `"ssl"`, "starttls"}},
		{"no TLS to a remote host", base(keySMTPTLS, "none"), []string{keySMTPTLS, "loopback", "smtp.gmail.com"}},
		{"no TLS to a LAN address", base(keySMTPHost, "192.168.1.10", keySMTPTLS, "none"), []string{"192.168.1.10"}},
		{"missing CA file", base(keyRootCAFile, "/nonexistent/ca.pem"), []string{keyRootCAFile, "reading the CA bundle"}},
		{"CA file without PEM", base(keyRootCAFile, notPEM), []string{keyRootCAFile, "no PEM certificate"}},
		{"sender name on two lines", base(keySenderName, "A\nB"), []string{keySenderName}},
		{"several problems at once", base(keySMTPPort, "x", keyIMAPPort, "y"), []string{keySMTPPort, keyIMAPPort, "; "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkConfig(tt.cfg)
			if len(tt.wants) == 0 {
				if err != nil {
					t.Errorf("unexpected problem: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no problem found, want one mentioning %q", tt.wants)
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problem %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secretpassword") {
				t.Errorf("problem %q shows the password", err)
			}
		})
	}
}

func TestCheckConfigThroughThePlugin(t *testing.T) {
	if p := sdktest.New(t, gmailPlugin, sdk.Config{}).ConfigProblems(); len(p) != 2 || p[0].Key != keyAppPassword || p[1].Key != keyEmailAddress {
		t.Errorf("empty config: problems %+v, want the two required keys", p)
	}
	if p := sdktest.New(t, gmailPlugin, sdk.Config{keyEmailAddress: "me@gmail.com", keyAppPassword: "pw"}).ConfigProblems(); len(p) != 0 {
		t.Errorf("minimal config: problems %+v, want none", p)
	}
}

func TestNormalizeAppPassword(t *testing.T) {
	tests := map[string]string{
		"abcd efgh ijkl mnop":  "abcdefghijklmnop",
		"abcdefghijklmnop":     "abcdefghijklmnop",
		"Abcd efgh ijkl mnop":  "Abcd efgh ijkl mnop", // not Google's format: kept
		"my secret password":   "my secret password",
		" abcd efgh ijkl mnop": " abcd efgh ijkl mnop",
	}
	for in, want := range tests {
		if got := normalizeAppPassword(in); got != want {
			t.Errorf("normalizeAppPassword(%q) = %q, want %q", in, got, want)
		}
	}
}
