package main

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// defaultSessionTimeout bounds a whole SMTP or IMAP conversation when the
// action has no deadline of its own. With one, the deadline bounds it.
const defaultSessionTimeout = 2 * time.Minute

// contextDialer opens connections that live no longer than the action's
// context: when it ends (deadline or cancellation) the connection is
// closed, which unblocks any read or write at once. Libraries that take a
// context only for dialing, or set their own relative timeouts, can then
// not outlive the host's deadline.
type contextDialer struct {
	action    context.Context
	tlsConfig *tls.Config // set for implicit TLS

	mu        sync.Mutex
	connected bool
	stops     []func() bool
}

// DialContext dials addr and, for implicit TLS, completes the handshake.
func (d *contextDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(d.action, func() { conn.Close() })
	d.mu.Lock()
	d.connected = true
	d.stops = append(d.stops, stop)
	d.mu.Unlock()
	if d.tlsConfig == nil {
		return conn, nil
	}
	tc := tls.Client(conn, d.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// reachedServer reports whether a TCP connection was made: a failure
// before that means the server could not be reached at all.
func (d *contextDialer) reachedServer() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.connected
}

// release stops watching the context for the connections made.
func (d *contextDialer) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, stop := range d.stops {
		stop()
	}
	d.stops = nil
}

// sessionTimeout is the time left before ctx's deadline, or
// defaultSessionTimeout when ctx has none. It is not positive when the
// deadline has passed.
func sessionTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl)
	}
	return defaultSessionTimeout
}
