package supervisor

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

func TestSecretsScrub(t *testing.T) {
	config := map[string]string{"token": "abcd-1234", "long": "abcd-1234-and-more", "region": "eu-west-1", "flag": "on"}
	s := newSecrets(config)
	// Before the manifest every value of four bytes or more is secret; the
	// longer value containing another is replaced whole.
	got := s.scrub("t=abcd-1234 l=abcd-1234-and-more r=eu-west-1 f=on")
	if want := "t=[redacted] l=[redacted] r=[redacted] f=on"; got != want {
		t.Fatalf("before the manifest: %q, want %q", got, want)
	}
	s.useManifest(&manifest.Plugin{Config: []manifest.ConfigParam{
		{Key: "token", Secret: true}, {Key: "long", Secret: true}, {Key: "region"}, {Key: "flag", Secret: true},
	}}, config)
	got = s.scrub("t=abcd-1234 l=abcd-1234-and-more r=eu-west-1 f=on")
	if want := "t=[redacted] l=[redacted] r=eu-west-1 f=on"; got != want {
		t.Fatalf("after the manifest: %q, want %q", got, want)
	}
	if got := (*secrets)(nil).scrub("abcd-1234"); got != "abcd-1234" {
		t.Fatalf("nil set changed text: %q", got)
	}
}

func TestSecretsScrubBytes(t *testing.T) {
	s := newSecrets(map[string]string{"token": "abcd-1234", "odd": `x","y`})
	valid := func(b []byte) bool { return strings.Count(string(b), `"`)%2 == 0 && strings.HasPrefix(string(b), "{") }
	if got := string(s.scrubBytes([]byte(`{"k":"abcd-1234"}`), valid)); got != `{"k":"[redacted]"}` {
		t.Fatalf("fields: %s", got)
	}
	clean := []byte(`{"k":"v"}`)
	if got := s.scrubBytes(clean, valid); &got[0] != &clean[0] {
		t.Fatal("fields without a secret were copied")
	}
	if got := s.scrubBytes([]byte(`{"a":"x","y":1}`), func([]byte) bool { return false }); got != nil {
		t.Fatalf("fields broken by scrubbing were kept: %s", got)
	}
}

func TestScrubLogger(t *testing.T) {
	var buf strings.Builder
	s := newSecrets(map[string]string{"token": "abcd-1234"})
	var l hclog.Logger = scrubLogger{hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace}), s}
	l = l.Named("x").With("ctx", "with abcd-1234")
	l.Trace("trace abcd-1234")
	l.Debug("d", "err", errors.New("bad abcd-1234"))
	l.Info("i", "n", 3, "s", "abcd-1234")
	l.Warn("w abcd-1234")
	l.Error("e", "stringer", hclog.Fmt("%s", "abcd-1234"))
	l.ResetNamed("y").Log(hclog.Info, "log abcd-1234")
	out := buf.String()
	if strings.Contains(out, "abcd-1234") {
		t.Fatalf("secret in log:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6:\n%s", len(lines), out)
	}
	for _, line := range lines[:5] { // ResetNamed drops With's args
		if strings.Count(line, "[redacted]") != 2 {
			t.Errorf("want the message or argument and ctx scrubbed: %s", line)
		}
	}
	if !strings.Contains(lines[5], "log [redacted]") {
		t.Errorf("Log not scrubbed: %s", lines[5])
	}
}

func TestResultErrorIsScrubbed(t *testing.T) {
	p := &Plugin{secrets: newSecrets(map[string]string{"token": "abcd-1234"})}
	_, err := p.result(&pb.RunResult{Error: &pb.RunError{Message: "auth failed for abcd-1234"}}, pluginrpc.ProtocolVersion, time.Now().Add(time.Hour), 0)
	if err == nil || strings.Contains(err.Error(), "abcd-1234") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("error: %v", err)
	}
}

// TestOutputLoggerLines: output is logged a line at a time across writes,
// CRLF endings trimmed, empty lines skipped, and a line past 4096 bytes
// cut there instead of buffered whole.
func TestOutputLoggerLines(t *testing.T) {
	var buf strings.Builder
	o := newOutputLogger(hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Info, JSONFormat: true}), "stderr")
	for _, w := range []string{"one\r\ntw", "o\n\n", strings.Repeat("x", 3000), strings.Repeat("y", 3000), "\nthree\n", "unfinished"} {
		if n, err := o.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var entry struct{ Line, Stream string }
		if err := json.Unmarshal([]byte(l), &entry); err != nil || entry.Stream != "stderr" {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, entry.Line)
	}
	long := strings.Repeat("x", 3000) + strings.Repeat("y", 1096) + " [line cut at 4096 bytes]"
	if want := []string{"one", "two", long, "three"}; !slices.Equal(lines, want) {
		t.Fatalf("lines %q, want %q", lines, want)
	}
}

func TestEnvValuesLeaveOutPlainSettings(t *testing.T) {
	entries := []string{"PATH", "LC_ALL=C", "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318",
		"OTEL_BSP_SCHEDULE_DELAY=60000", "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer otel-secret",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-key=traces-secret", "GITHUB_TOKEN"}
	getenv := func(name string) string {
		return map[string]string{"PATH": "/usr/bin", "GITHUB_TOKEN": "ghp-secret"}[name]
	}
	got := envValues(entries, getenv)
	want := []string{"authorization=Bearer otel-secret", "x-key=traces-secret", "ghp-secret"}
	if !slices.Equal(got, want) {
		t.Fatalf("secret env values = %q, want %q", got, want)
	}
}
