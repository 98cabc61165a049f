package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/toolhost/toolhost/host"
	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/host/store"
)

// runAction runs an action: blocking (default), non-blocking, or streamed.
// A request with an Idempotency-Key is checked against earlier ones before
// anything else, so that a retry replays the first answer without asking a
// model to fill a prompt again.
func (s *server) runAction(w http.ResponseWriter, r *http.Request) {
	a, err := s.action(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.withIdempotency(w, r, a.ID, body, func(w http.ResponseWriter, idempotencyKey string) {
		req, stream, blocking, err := s.runRequest(r, a, body)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req.IdempotencyKey = idempotencyKey
		switch {
		case stream:
			s.runStreamed(w, r, req)
		case !blocking:
			s.runQueued(w, r, req)
		default:
			s.runBlocking(w, r, req)
		}
	})
}

// runRequest turns a run body into a checked request: the input (filled
// by the model when the body has a prompt) and how to answer.
func (s *server) runRequest(r *http.Request, a *host.Action, body []byte) (req host.Request, stream, blocking bool, err error) {
	rest, prompt, err := takePrompt(a, body) // "prompt": the model fills the input (handlers_threads.go)
	if err != nil {
		return req, false, false, err
	}
	input, mode, err := a.DecodeRunBody(rest)
	if err == nil {
		input, err = s.fillFromPrompt(r.Context(), a, prompt, input)
	}
	if err != nil {
		return req, false, false, err
	}
	checked, err := a.CheckInput(input)
	if err != nil {
		return req, false, false, err
	}
	stream, blocking, err = runMode(r, mode)
	return host.Request{Action: a, Input: checked, KeyName: keyName(r)}, stream, blocking, err
}

// readBody reads the capped body; going over the cap is a 413. A body of
// declared length up to preallocBody is read into one buffer of that size
// instead of one grown (and copied) as it comes.
func readBody(r *http.Request) ([]byte, error) {
	var body []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= preallocBody {
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(r.Body)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fault.New(fault.TooLarge, "request body is over the %d byte limit", tooBig.Limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fault.Wrap(err, fault.InvalidRequest, "could not read the request body: it did not arrive in time")
	}
	if err != nil {
		return nil, fault.Wrap(err, fault.InvalidRequest, "could not read the request body: %v", err)
	}
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	return body, nil
}

// preallocBody bounds what a request's declared length alone may make
// readBody allocate.
const preallocBody = 4 << 20

// runMode combines the query string, the body's keys and the Accept header.
func runMode(r *http.Request, m host.RunMode) (stream, blocking bool, err error) {
	blocking = true
	if m.Blocking != nil {
		blocking = *m.Blocking
	}
	if m.Stream != nil {
		stream = *m.Stream
	}
	if err := queryModes(r, &blocking, &stream); err != nil {
		return false, false, err
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		stream = true
	}
	return stream, blocking, nil
}

// queryModes applies the query's blocking and stream flags, if any (most
// requests have no query string, which is then not parsed).
func queryModes(r *http.Request, blocking, stream *bool) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, m := range [...]struct {
		name string
		dst  *bool
	}{{"blocking", blocking}, {"stream", stream}} {
		if v := q.Get(m.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return &fault.Error{Code: fault.InvalidRequest, Message: m.name + " must be true or false",
					Fields: []fault.FieldError{{Field: m.name, Message: "must be true or false"}}}
			}
			*m.dst = b
		}
	}
	return nil
}

func (s *server) runBlocking(w http.ResponseWriter, r *http.Request, req host.Request) {
	run, err := s.runner.Run(req)
	if err != nil {
		runID := ""
		if run != nil {
			runID = run.ID
			w.Header().Set("X-Run-Id", runID)
		}
		writeJSON(w, s.errorStatus(r, err), s.errorEnvelope(r, err, runID))
		return
	}
	w.Header().Set("X-Run-Id", run.ID)
	status, body := s.runAnswer(r, run)
	writeRaw(w, status, body)
}

// runAnswer is the Connery-shaped answer for a finished run, encoded. The
// success envelope is written directly: input and output are valid JSON
// already, and encoding/json would re-validate and compact every byte.
func (s *server) runAnswer(r *http.Request, run *store.Run) (int, []byte) {
	if run.Status != store.StatusSucceeded {
		e := &fault.Error{Code: fault.ActionFailed, Message: "run " + run.Status}
		if run.Error != nil {
			e = &fault.Error{Code: run.Error.Code, Message: run.Error.Message}
		}
		body, _ := json.Marshal(s.errorEnvelope(r, e, run.ID))
		return httpStatus(e.Code), append(body, '\n')
	}
	b := make([]byte, 0, len(run.Output)+len(run.Input)+160)
	b = append(b, `{"status":"success","data":{"output":`...)
	b = append(b, rawOr(run.Output)...)
	b = store.AppendJSONString(append(b, `,"used":{"actionId":`...), run.ActionID)
	b = append(b, `,"input":`...)
	b = append(b, rawOr(run.Input)...)
	b = store.AppendJSONString(append(b, `},"run_id":`...), run.ID)
	return http.StatusOK, append(b, "}}\n"...)
}

func rawOr(raw []byte) []byte {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}")
	}
	return raw
}

func (s *server) runQueued(w http.ResponseWriter, r *http.Request, req host.Request) {
	run, err := s.runner.Enqueue(req)
	if err != nil {
		if fault.Code(err) == fault.RateLimited {
			w.Header().Set("Retry-After", "1")
		}
		s.fail(w, r, err)
		return
	}
	w.Header().Set("X-Run-Id", run.ID)
	ok(w, http.StatusAccepted, map[string]any{"run_id": run.ID, "status": run.Status})
}

func (s *server) runStreamed(w http.ResponseWriter, r *http.Request, req host.Request) {
	id, err := s.runner.Start(req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("X-Run-Id", id)
	s.streamRun(w, r, id, 0, nil)
}
