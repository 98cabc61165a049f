package api

import (
	"net/http"
	"strings"
	"time"
)

// DefaultWriteTimeout is Config.WriteTimeout's default.
const DefaultWriteTimeout = 60 * time.Second

// withAnswerDeadline gives every answer but an event stream
// Config.WriteTimeout to be written, counted from when it starts (so a
// blocking run may take as long as it takes). A client that stops reading
// cannot hold its connection, and the answer's memory, forever: past the
// deadline the write fails and the connection is closed. Event streams
// (text/event-stream) are left alone: they send heartbeats and end with
// the run.
func (s *server) withAnswerDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&deadlineWriter{ResponseWriter: w, timeout: s.cfg.WriteTimeout}, r)
	})
}

// deadlineWriter sets the write deadline when the answer starts.
type deadlineWriter struct {
	http.ResponseWriter
	timeout time.Duration
	started bool
}

func (d *deadlineWriter) start() {
	if d.started {
		return
	}
	d.started = true
	if strings.HasPrefix(d.Header().Get("Content-Type"), "text/event-stream") {
		return
	}
	_ = http.NewResponseController(d.ResponseWriter).SetWriteDeadline(time.Now().Add(d.timeout))
}

func (d *deadlineWriter) WriteHeader(code int) {
	d.start()
	d.ResponseWriter.WriteHeader(code)
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.start()
	return d.ResponseWriter.Write(p)
}

func (d *deadlineWriter) Flush() {
	if f, ok := d.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
