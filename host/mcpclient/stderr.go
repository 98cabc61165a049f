package mcpclient

import (
	"bytes"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLine is the longest stderr line logged whole; longer ones are cut.
const maxLine = 4096

// lineLog is a command's stderr: each line goes to the log under the
// server's name, scrubbed, and the last few are kept for error messages.
type lineLog struct {
	log   hclog.Logger
	scrub func(string) string

	mu   sync.Mutex
	buf  []byte
	last []string
}

func (w *lineLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLine {
				w.line(string(w.buf[:maxLine]))
				w.buf = w.buf[maxLine:]
				continue
			}
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineLog) line(s string) {
	s = strings.TrimRight(s, "\r")
	if len(s) > maxLine {
		s = s[:maxLine]
	}
	s = w.scrub(s)
	w.log.Info(s)
	w.last = append(w.last, s)
	if len(w.last) > 5 {
		w.last = w.last[1:]
	}
}

// tail is the last lines the command wrote to stderr.
func (w *lineLog) tail() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, " | ")
}
