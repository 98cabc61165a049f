package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// Gmail's IMAP extension X-GM-EXT-1 adds the search key X-GM-RAW, which
// takes a query in Gmail's web search syntax. go-imap v2 has no way to send
// it: SearchCriteria has no raw or extension key, the client's command
// encoder is internal, and its maintainers declined Gmail-specific keys.
// The lowest level the client exposes is the net.Conn it writes to.
//
// So the plugin searches for HEADER "<marker>" <query>, with a random
// marker that is unique to the connection, and gmRawConn rewrites exactly
// those bytes into X-GM-RAW <query> on their way to the server. The query
// itself is encoded by go-imap (quoted, or a literal with CHARSET UTF-8
// when it is not ASCII), as X-GM-RAW expects. The rewrite is armed for one
// command, happens at most once, and the caller checks that it happened:
// a search that went out unrewritten would silently match nothing.

// gmRawConn is a connection that can turn one marker search key into
// X-GM-RAW.
type gmRawConn struct {
	net.Conn
	marker string // the HEADER field name standing for X-GM-RAW

	mu        sync.Mutex
	armed     bool
	rewritten bool
	from, to  []byte
}

func newGMRawConn(conn net.Conn) (*gmRawConn, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	marker := "X-Toolhost-Gm-Raw-" + hex.EncodeToString(b[:])
	return &gmRawConn{
		Conn:   conn,
		marker: marker,
		from:   []byte(`HEADER "` + marker + `" `),
		to:     []byte("X-GM-RAW "),
	}, nil
}

// criteria returns search criteria that, sent through this connection
// after arm, become X-GM-RAW query.
func (c *gmRawConn) criteria(query string) *imap.SearchCriteria {
	return &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: c.marker, Value: query}}}
}

// arm makes the next write that holds the marker key rewrite it.
func (c *gmRawConn) arm() {
	c.mu.Lock()
	c.armed, c.rewritten = true, false
	c.mu.Unlock()
}

// didRewrite reports whether the armed rewrite happened, and disarms.
func (c *gmRawConn) didRewrite() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	done := c.rewritten
	c.armed, c.rewritten = false, false
	return done
}

// Write passes p on, with the marker key replaced when armed. The client
// flushes each command from an empty buffer, so the command's start, where
// the key is, arrives in one write.
func (c *gmRawConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if !c.armed || c.rewritten {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	i := bytes.Index(p, c.from)
	if i < 0 {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	c.rewritten = true
	c.mu.Unlock()
	out := make([]byte, 0, len(p)-len(c.from)+len(c.to))
	out = append(out, p[:i]...)
	out = append(out, c.to...)
	out = append(out, p[i+len(c.from):]...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
