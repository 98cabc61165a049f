package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// fakeIMAP is go-imap's in-memory IMAP server on 127.0.0.1 behind
// implicit TLS, with one user.
type fakeIMAP struct {
	host, port string
	user       *imapmemserver.User
	searches   *commandLog // SEARCH commands as the server received them
}

type fakeIMAPOptions struct {
	// gmail advertises X-GM-EXT-1 and turns each X-GM-RAW key the server
	// receives into TEXT, which the in-memory server can run.
	gmail bool
}

func startFakeIMAP(t *testing.T, pki *testPKI, opts fakeIMAPOptions) *fakeIMAP {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	searches := &commandLog{}

	caps := imap.CapSet{imap.CapIMAP4rev1: {}}
	if opts.gmail {
		caps[capGmail] = struct{}{}
	}
	// The server's debug output shows the commands it reads; with the
	// X-GM-RAW translation, the translator logs them before translating.
	var debug io.Writer = searches
	if opts.gmail {
		debug = nil
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   caps,
		Logger: log.New(io.Discard, "", 0),
		// The X-GM-RAW translation hides the *tls.Conn from the server,
		// which then takes the connection for plain text.
		InsecureAuth: opts.gmail,
		DebugWriter:  debug,
	})

	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIMAP{user: user, searches: searches}
	f.host, f.port = splitHostPort(t, raw.Addr().String())
	var ln net.Listener = tls.NewListener(raw, pki.serverTLS)
	if opts.gmail {
		ln = &gmRawTranslator{Listener: ln, seen: searches}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return f
}

// add appends a message to mailbox, arrived at date.
func (f *fakeIMAP) add(t *testing.T, mailbox, raw string, arrived time.Time) {
	t.Helper()
	data := strings.ReplaceAll(raw, "\n", "\r\n")
	r := literal{Reader: strings.NewReader(data), size: int64(len(data))}
	if _, err := f.user.Append(mailbox, r, &imap.AppendOptions{Time: arrived}); err != nil {
		t.Fatalf("appending to %s: %v", mailbox, err)
	}
}

type literal struct {
	io.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

// commandLog is a writer that keeps the UID SEARCH command lines written
// to it (and the literal line after one that ends in a literal).
type commandLog struct {
	mu    sync.Mutex
	buf   []byte
	lines []string
}

func (l *commandLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.Index(l.buf, []byte("\r\n"))
		if i < 0 {
			return len(p), nil
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+2:]
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "UID" && f[2] == "SEARCH" {
			l.lines = append(l.lines, line)
		}
	}
}

func (l *commandLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// gmRawTranslator stands in for Gmail's extensions: it adds X-GM-EXT-1 to
// the capabilities the server sends, logs the SEARCH commands as received,
// in seen, then turns X-GM-RAW into TEXT, which the in-memory server can
// run.
type gmRawTranslator struct {
	net.Listener
	seen *commandLog
}

func (l *gmRawTranslator) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &translatingConn{Conn: c, seen: l.seen}, nil
}

// translatingConn replaces "X-GM-RAW " with "TEXT " in what it reads and
// advertises X-GM-EXT-1 in what it writes. Each command and response is
// flushed whole, so a key is never split between reads or writes.
type translatingConn struct {
	net.Conn
	seen    *commandLog
	pending []byte
}

func (c *translatingConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		buf := make([]byte, 64<<10)
		n, err := c.Conn.Read(buf)
		if n == 0 {
			return 0, err
		}
		_, _ = c.seen.Write(buf[:n])
		c.pending = bytes.ReplaceAll(buf[:n], []byte("X-GM-RAW "), []byte("TEXT "))
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *translatingConn) Write(p []byte) (int, error) {
	out := bytes.ReplaceAll(p, []byte("CAPABILITY IMAP4rev1"), []byte("CAPABILITY IMAP4rev1 "+string(capGmail)))
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
