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

	"github.com/gorilla/mux"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// runAction runs an action: blocking (default), non-blocking, or streamed.
// The core does the rest (decode, prompt, check, idempotency, record, run);
// this decodes the HTTP request into a call and renders the result.
func (s *server) runAction(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mode, err := requestMode(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.runner.Submit(r.Context(), core.Call{
		Action: mux.Vars(r)["actionId"], Args: body, Mode: mode,
		Caller: callerOf(r), IdempotencyKey: r.Header.Get("Idempotency-Key"), Source: "http",
	})
	s.answerRun(w, r, res, err)
}

// answerRun renders what Submit gave an action run: the final answer
// (blocking, or a replay of one), 202 with the run id (non-blocking), or
// the event stream.
func (s *server) answerRun(w http.ResponseWriter, r *http.Request, res core.Result, err error) {
	if res.Run != nil {
		w.Header().Set("X-Run-Id", res.Run.ID)
	}
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeRateLimited {
			w.Header().Set("Retry-After", "1")
		}
		runID := ""
		if res.Run != nil {
			runID = res.Run.ID
		}
		writeJSON(w, s.errorStatus(r, err), s.errorEnvelope(r, err, runID))
		return
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	switch res.Mode {
	case core.ModeStream:
		s.streamRun(w, r, res.Run.ID, 0, nil)
	case core.ModeBackground:
		ok(w, http.StatusAccepted, map[string]any{"run_id": res.Run.ID, "status": res.Run.Status})
	default:
		status, body := s.runAnswer(r, res.Run)
		writeRaw(w, status, body)
	}
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
		return nil, domain.Errorf(domain.CodeTooLarge, "request body is over the %d byte limit", tooBig.Limit)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, domain.WrapError(err, domain.CodeInvalidRequest, "could not read the request body: it did not arrive in time")
	}
	if err != nil {
		return nil, domain.WrapError(err, domain.CodeInvalidRequest, "could not read the request body: %v", err)
	}
	if err := checkUTF8(body); err != nil {
		return nil, err
	}
	return body, nil
}

// preallocBody bounds what a request's declared length alone may make
// readBody allocate.
const preallocBody = 4 << 20

// requestMode is the answer mode the query string and the Accept header
// ask for; the core combines it with the body's "blocking" and "stream".
func requestMode(r *http.Request) (core.ModeRequest, error) {
	var m core.ModeRequest
	if err := queryModes(r, &m); err != nil {
		return m, err
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		stream := true
		m.Stream = &stream
	}
	return m, nil
}

// queryModes applies the query's blocking and stream flags, if any (most
// requests have no query string, which is then not parsed).
func queryModes(r *http.Request, mode *core.ModeRequest) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, m := range [...]struct {
		name string
		dst  **bool
	}{{"blocking", &mode.Blocking}, {"stream", &mode.Stream}} {
		if v := q.Get(m.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return &domain.Error{Code: domain.CodeInvalidRequest, Message: m.name + " must be true or false",
					Fields: []domain.FieldError{{Field: m.name, Message: "must be true or false"}}}
			}
			*m.dst = &b
		}
	}
	return nil
}

// runAnswer is the Connery-shaped answer for a finished run, encoded. The
// success envelope is written directly: input and output are valid JSON
// already, and encoding/json would re-validate and compact every byte.
func (s *server) runAnswer(r *http.Request, run *domain.Run) (int, []byte) {
	if run.Status != domain.StatusSucceeded {
		e := &domain.Error{Code: domain.CodeActionFailed, Message: "run " + run.Status}
		if run.Error != nil {
			e = &domain.Error{Code: run.Error.Code, Message: run.Error.Message}
		}
		body, _ := json.Marshal(s.errorEnvelope(r, e, run.ID))
		return httpStatus(e.Code), append(body, '\n')
	}
	b := make([]byte, 0, len(run.Output)+len(run.Input)+160)
	b = append(b, `{"status":"success","data":{"output":`...)
	b = append(b, rawOr(run.Output)...)
	b = domain.AppendJSONString(append(b, `,"used":{"actionId":`...), run.ActionID)
	b = append(b, `,"input":`...)
	b = append(b, rawOr(run.Input)...)
	b = domain.AppendJSONString(append(b, `},"run_id":`...), run.ID)
	return http.StatusOK, append(b, "}}\n"...)
}

func rawOr(raw []byte) []byte {
	if len(bytes.TrimSpace(raw)) == 0 {
		return []byte("{}")
	}
	return raw
}
