package supervisor

import (
	"strings"
	"sync"
)

// tail keeps the last bytes a plugin wrote to stderr, so a failed start can
// say what the plugin said (its secrets scrubbed).
type tail struct {
	mu      sync.Mutex
	buf     []byte
	max     int
	secrets *secrets
}

func newTail(max int, s *secrets) *tail { return &tail{max: max, secrets: s} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept text, trimmed, without hclog's JSON wrapping for
// lines that carry a message.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(t.secrets.scrub(string(t.buf)))
}
