package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// recordingConn is a net.Conn that keeps what is written to it.
type recordingConn struct {
	net.Conn
	buf bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) { return c.buf.Write(p) }

func TestGMRawConnRewritesOnceWhenArmed(t *testing.T) {
	rec := &recordingConn{}
	c, err := newGMRawConn(rec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := func(tag string) []byte {
		return []byte(tag + ` UID SEARCH HEADER "` + c.marker + `" "from:alice newer_than:7d"` + "\r\n")
	}

	// Not armed: passed on as is.
	if n, err := c.Write(cmd("T1")); err != nil || n != len(cmd("T1")) {
		t.Fatalf("write = %d, %v", n, err)
	}
	if c.didRewrite() || !strings.Contains(rec.buf.String(), "HEADER") {
		t.Fatalf("rewrote without being armed: %q", rec.buf.String())
	}

	rec.buf.Reset()
	c.arm()
	in := cmd("T2")
	if n, err := c.Write(in); err != nil || n != len(in) {
		t.Fatalf("write = %d, %v; want %d, nil (the caller's byte count)", n, err, len(in))
	}
	if got, want := rec.buf.String(), "T2 UID SEARCH X-GM-RAW \"from:alice newer_than:7d\"\r\n"; got != want {
		t.Errorf("sent %q, want %q", got, want)
	}
	// A second command in the same armed window is not touched.
	rec.buf.Reset()
	_, _ = c.Write(cmd("T3"))
	if !strings.Contains(rec.buf.String(), "HEADER") {
		t.Errorf("rewrote twice: %q", rec.buf.String())
	}
	if !c.didRewrite() {
		t.Error("didRewrite = false after a rewrite")
	}
	if c.didRewrite() {
		t.Error("didRewrite stays true after disarming")
	}
}

func TestGMRawConnMarkersDiffer(t *testing.T) {
	a, _ := newGMRawConn(&recordingConn{})
	b, _ := newGMRawConn(&recordingConn{})
	if a.marker == b.marker || !strings.HasPrefix(a.marker, "X-Toolhost-Gm-Raw-") {
		t.Errorf("markers %q and %q", a.marker, b.marker)
	}
}
