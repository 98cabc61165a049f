package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

const maxIdempotencyKey = 255

// withIdempotency applies Stripe's Idempotency-Key semantics around a run
// request: the same key and body replay the recorded answer; a different
// body, or the first request still in flight, is a 409. serve gets the key
// ("" without one) to record on the run. An answer is recorded only once a
// run exists (serve set X-Run-Id): before that (bad input, a full queue, a
// model that could not fill a prompt) the key is released, so a retry runs.
func (s *server) withIdempotency(w http.ResponseWriter, r *http.Request, actionID string, body []byte, serve func(w http.ResponseWriter, key string)) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		serve(w, "")
		return
	}
	if len(key) > maxIdempotencyKey {
		s.fail(w, r, &domain.Error{Code: domain.CodeInvalidRequest, Message: "Idempotency-Key is longer than 255 characters",
			Fields: []domain.FieldError{{Field: "Idempotency-Key", Message: "too long"}}})
		return
	}
	digest := sha256.Sum256(append([]byte(actionID+"\n"+r.URL.RawQuery+"\n"), body...))
	scoped := keyName(r) + "\x00" + key
	existing, err := s.db.Idempotency().BeginIdempotent(context.Background(), &store.IdempotencyRecord{Key: scoped, BodyDigest: digest[:], CreatedAt: time.Now().UTC()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if existing != nil {
		s.replay(w, r, existing, digest[:])
		return
	}
	rec := &capture{ResponseWriter: w}
	serve(rec, key)
	if rec.status == 0 || w.Header().Get("X-Run-Id") == "" {
		_ = s.db.Idempotency().AbandonIdempotent(context.Background(), scoped) // nothing ran: let a retry run
		return
	}
	status, answer := rec.status, rec.body.Bytes()
	if rec.stream {
		// A streamed answer is replayed as the blocking answer of its run.
		run, err := s.runner.Get(w.Header().Get("X-Run-Id"))
		if err != nil {
			_ = s.db.Idempotency().AbandonIdempotent(context.Background(), scoped)
			return
		}
		if run.Kind == "assistant" {
			var env envelope
			status, env = s.threadRunAnswer(r, run)
			answer, _ = json.Marshal(env)
		} else {
			status, answer = s.runAnswer(r, run)
		}
	}
	if err := s.db.Idempotency().FinishIdempotent(context.Background(), scoped, status, answer); err != nil {
		s.log.Error("record idempotent answer", "error", err)
	}
}

func (s *server) replay(w http.ResponseWriter, r *http.Request, rec *store.IdempotencyRecord, digest []byte) {
	switch {
	case !bytes.Equal(rec.BodyDigest, digest):
		s.fail(w, r, domain.Errorf(domain.CodeConflict, "Idempotency-Key was already used with a different request body"))
	case rec.Status == 0:
		s.fail(w, r, domain.Errorf(domain.CodeConflict, "a request with this Idempotency-Key is still in progress"))
	default:
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(rec.Status)
		// The store keeps the answer compacted; writeJSON ends with a newline.
		_, _ = w.Write(append(bytes.TrimSpace(rec.Response), '\n'))
	}
}

// capture keeps a copy of a JSON answer for replay. Streamed answers are
// passed through and not kept (their status is recorded with the run).
type capture struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	stream bool
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
		c.stream = c.Header().Get("Content-Type") == "text/event-stream"
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if !c.stream {
		c.body.Write(p)
	}
	return c.ResponseWriter.Write(p)
}

func (c *capture) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
