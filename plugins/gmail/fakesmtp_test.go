package main

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fakeSMTP is a real SMTP server (go-smtp) on 127.0.0.1 that checks AUTH
// PLAIN credentials and records what each session did.
type fakeSMTP struct {
	host, port string

	user, password string
	rejectRcpt     map[string]bool // addresses refused with 550
	dataErr        *smtp.SMTPError // returned for DATA, when set

	mu         sync.Mutex
	sessions   int
	tlsLogins  int
	authFails  int
	mails      int
	dataCalls  int
	deliveries []delivery
}

// delivery is one message the server accepted.
type delivery struct {
	from  string
	rcpts []string
	data  []byte
}

type fakeSMTPOptions struct {
	startTLS    *tls.Config // offer STARTTLS with this config
	implicitTLS *tls.Config // listen with TLS from the first byte
	maxBytes    int64       // advertised SIZE limit
	insecure    bool        // allow AUTH without TLS
	dataErr     *smtp.SMTPError
	rejectRcpt  []string
}

const (
	testUser     = "me@example.com"
	testPassword = "abcdefghijklmnop"
)

func startFakeSMTP(t *testing.T, opts fakeSMTPOptions) *fakeSMTP {
	t.Helper()
	f := &fakeSMTP{user: testUser, password: testPassword, rejectRcpt: map[string]bool{}, dataErr: opts.dataErr}
	for _, r := range opts.rejectRcpt {
		f.rejectRcpt[strings.ToLower(r)] = true
	}
	srv := smtp.NewServer(smtp.BackendFunc(f.newSession))
	srv.Domain = "localhost"
	srv.TLSConfig = opts.startTLS
	srv.MaxMessageBytes = opts.maxBytes
	srv.AllowInsecureAuth = opts.insecure
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)

	var ln net.Listener
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.implicitTLS != nil {
		ln = tls.NewListener(ln, opts.implicitTLS)
	}
	f.host, f.port = splitHostPort(t, ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fakeSMTP) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	f.mu.Lock()
	f.sessions++
	f.mu.Unlock()
	return &fakeSession{f: f, tls: isTLS}, nil
}

func (f *fakeSMTP) stats() (sessions, mails, dataCalls int, deliveries []delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions, f.mails, f.dataCalls, append([]delivery(nil), f.deliveries...)
}

type fakeSession struct {
	f      *fakeSMTP
	tls    bool
	authed bool
	from   string
	rcpts  []string
}

func (s *fakeSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *fakeSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		s.f.mu.Lock()
		defer s.f.mu.Unlock()
		if username != s.f.user || password != s.f.password {
			s.f.authFails++
			return smtp.ErrAuthFailed
		}
		if s.tls {
			s.f.tlsLogins++
		}
		s.authed = true
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.f.mu.Lock()
	s.f.mails++
	s.f.mu.Unlock()
	s.from = from
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.f.rejectRcpt[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	s.f.mu.Lock()
	s.f.dataCalls++
	s.f.mu.Unlock()
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.f.dataErr != nil {
		return s.f.dataErr
	}
	if s.from == "" || len(s.rcpts) == 0 {
		return errors.New("no envelope")
	}
	s.f.mu.Lock()
	s.f.deliveries = append(s.f.deliveries, delivery{from: s.from, rcpts: append([]string(nil), s.rcpts...), data: data})
	s.f.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset() {
	s.from = ""
	s.rcpts = nil
}

func (s *fakeSession) Logout() error { return nil }
