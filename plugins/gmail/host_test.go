package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/hosttest"
)

// TestSendEmailThroughTheHost runs the real gmail binary under a real host
// and sends through the HTTP API to an SMTP server on loopback.
func TestSendEmailThroughTheHost(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	cfg := map[string]string{}
	for k, v := range smtpConfig(f, pki) {
		cfg[k] = v
	}
	h := hosttest.Start(t, hosttest.Plugin{Name: "gmail", Package: "plugins/gmail", Config: cfg})

	r := h.Do("POST", "/v1/actions/gmail.sendEmail/run",
		`{"input":{"recipient":"bob@example.com, carol@example.com","subject":"Through the host","body":"Hello from toolhost."}}`)
	status, data, msg, _ := r.Envelope()
	if r.Status != 200 || status != "success" {
		t.Fatalf("run: %d %s", r.Status, r.Body)
	}
	var out struct {
		Output struct {
			MessageID string `json:"messageId"`
		} `json:"output"`
		RunID string `json:"run_id"`
	}
	json.Unmarshal(data, &out)
	_, _, _, deliveries := f.stats()
	if len(deliveries) != 1 || !strings.Contains(string(deliveries[0].data), out.Output.MessageID) || out.Output.MessageID == "" {
		t.Fatalf("delivered %d messages; output %+v %s", len(deliveries), out, msg)
	}
	if hist := h.Do("GET", "/v1/runs/"+out.RunID, ""); strings.Contains(string(hist.Body), testPassword) ||
		strings.Contains(string(hist.Body), "abcd efgh") || !strings.Contains(string(hist.Body), `"succeeded"`) {
		t.Fatalf("history: %s", hist.Body)
	}

	// A bad address is a 400 naming the field, and nothing is sent.
	r = h.Do("POST", "/v1/actions/gmail.sendEmail/run", `{"recipient":"bob@","subject":"s","body":"b"}`)
	if _, _, msg, code := r.Envelope(); r.Status != 400 || code != "invalid_input" || !strings.Contains(msg, "recipient") {
		t.Fatalf("bad address: %d %s", r.Status, r.Body)
	}
	if _, _, _, d := f.stats(); len(d) != 1 {
		t.Fatalf("a rejected run sent mail: %d", len(d))
	}
}
