package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// Stateless Streamable HTTP has no session to tie a client's
// notifications/cancelled to the tools/call it names: each POST is served
// on its own. So the door remembers the tools/call requests in flight by
// the key that sent them and their JSON-RPC id, and a notifications/cancelled
// from the same key naming that id cancels it. Two calls in flight with the
// same key and id (two clients sharing a key) are ambiguous; a
// cancellation naming them is dropped rather than cancelling the wrong run.

// callSlot is one tools/call in flight: fire, when the client cancels
// it, calls what onFire was given (at once if it came later).
type callSlot struct {
	mu    sync.Mutex
	fired bool
	fn    func()
}

func (s *callSlot) fire() {
	s.mu.Lock()
	fn, first := s.fn, !s.fired
	s.fired = true
	s.mu.Unlock()
	if first && fn != nil {
		fn()
	}
}

func (s *callSlot) onFire(fn func()) {
	s.mu.Lock()
	fired := s.fired
	if !fired {
		s.fn = fn
	}
	s.mu.Unlock()
	if fired {
		fn()
	}
}

type callID struct{ key, id string }

type callRegistry struct {
	mu    sync.Mutex
	calls map[callID]*callSlot // nil value: ambiguous
	refs  map[callID]int
}

func newCallRegistry() *callRegistry {
	return &callRegistry{calls: map[callID]*callSlot{}, refs: map[callID]int{}}
}

// track reads a POST's body (it is put back for the SDK) and looks at its
// one message: a tools/call is registered until release; a
// notifications/cancelled fires the call it names. Anything else, batches
// included, passes as it is; the SDK answers malformed messages.
func (c *callRegistry) track(r *http.Request, req *request) (*http.Request, func(), error) {
	nothing := func() {}
	if r.Method != http.MethodPost || r.Body == nil {
		return r, nothing, nil
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return r, nothing, fmt.Errorf("the request body did not arrive in time")
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return r, nothing, fmt.Errorf("request body is over the %d byte limit: %w", tooBig.Limit, err)
		}
		return r, nothing, fmt.Errorf("could not read the request body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	method, id, cancelled, ok := peek(body)
	if !ok {
		return r, nothing, nil
	}
	switch method {
	case "tools/call":
		slot := &callSlot{}
		req.call = slot
		k := callID{req.key.Identity(), id}
		c.add(k, slot)
		return r, func() { c.remove(k) }, nil
	case "notifications/cancelled":
		c.fire(callID{req.key.Identity(), cancelled})
	}
	return r, nothing, nil
}

// peek reads the method and id of one JSON-RPC message and, for
// notifications/cancelled, the id it names (ids in a canonical form, so 7
// and 7.0 are the same id). It decodes only those fields, with
// encoding/json: the SDK decodes the whole message again, and each of its
// decodes costs a 32 KiB buffer, so peek does not add one more. Field
// names match as encoding/json matches them (exact first, then without
// case); a message whose names differ from the SDK's only in case can at
// worst leave its own call without cancellation by notification.
func peek(body []byte) (method, id, cancelled string, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return "", "", "", false
	}
	var m struct {
		Version string  `json:"jsonrpc"`
		Method  *string `json:"method"`
		ID      any     `json:"id"`
		Params  struct {
			RequestID any `json:"requestId"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &m) != nil || m.Version != "2.0" || m.Method == nil {
		return "", "", "", false
	}
	rid, err := jsonrpc.MakeID(m.ID)
	if err != nil {
		return "", "", "", false
	}
	if rid.IsValid() {
		id = idString(rid)
	}
	if *m.Method == "notifications/cancelled" {
		c, err := jsonrpc.MakeID(m.Params.RequestID)
		if err != nil || !c.IsValid() {
			return "", "", "", false
		}
		cancelled = idString(c)
	}
	return *m.Method, id, cancelled, true
}

func idString(id jsonrpc.ID) string { return fmt.Sprintf("%T:%v", id.Raw(), id.Raw()) }

func (c *callRegistry) add(k callID, s *callSlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs[k]++
	if c.refs[k] == 1 {
		c.calls[k] = s
	} else {
		c.calls[k] = nil
	}
}

func (c *callRegistry) remove(k callID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refs[k]--; c.refs[k] <= 0 {
		delete(c.refs, k)
		delete(c.calls, k)
	}
}

func (c *callRegistry) fire(k callID) {
	c.mu.Lock()
	s := c.calls[k]
	c.mu.Unlock()
	if s != nil {
		s.fire()
	}
}
