package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/host/store"
)

// statusOf maps an error code to its HTTP status. Codes not listed are 500.
var statusOf = map[string]int{
	fault.InvalidInput:      http.StatusBadRequest,
	fault.InvalidRequest:    http.StatusBadRequest,
	fault.Unauthorized:      http.StatusUnauthorized,
	fault.Forbidden:         http.StatusForbidden,
	fault.NotFound:          http.StatusNotFound,
	fault.MethodNotAllowed:  http.StatusMethodNotAllowed,
	fault.Conflict:          http.StatusConflict,
	fault.Cancelled:         http.StatusConflict,
	fault.TooLarge:          http.StatusRequestEntityTooLarge,
	fault.RateLimited:       http.StatusTooManyRequests,
	fault.ActionFailed:      http.StatusInternalServerError,
	fault.OutputInvalid:     http.StatusInternalServerError,
	fault.Interrupted:       http.StatusInternalServerError,
	fault.PluginUnavailable: http.StatusBadGateway,
	fault.Misconfigured:     http.StatusBadGateway,
	fault.ModelError:        http.StatusBadGateway,
	fault.ShuttingDown:      http.StatusServiceUnavailable,
	fault.ActionTimeout:     http.StatusGatewayTimeout,
}

func httpStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Message string             `json:"message"`
	Code    string             `json:"code"`
	Fields  []fault.FieldError `json:"fields,omitempty"`
	RunID   string             `json:"run_id,omitempty"`
}

type envelope struct {
	Status string     `json:"status"`
	Data   any        `json:"data,omitempty"`
	Error  *errorBody `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRaw writes a JSON body that is already encoded.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func ok(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, envelope{Status: "success", Data: data})
}

// fail writes the error envelope. Errors without a code are logged and
// shown as "internal error".
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeJSON(w, s.errorStatus(r, err), s.errorEnvelope(r, err, ""))
}

func (s *server) errorStatus(_ *http.Request, err error) int {
	return httpStatus(toFault(err).Code)
}

func (s *server) errorEnvelope(r *http.Request, err error, runID string) envelope {
	f := toFault(err)
	if f.Code == fault.Internal {
		s.log.Error("internal error", "request_id", requestID(r), "error", err)
		f.Message = "internal error"
	}
	msg := f.Message
	if f.Code == fault.ActionFailed {
		msg = "[Action execution error] " + msg
	}
	return envelope{Status: "error", Error: &errorBody{Message: msg, Code: f.Code, Fields: f.Fields, RunID: runID}}
}

// toFault gives store errors their API codes.
func toFault(err error) *fault.Error {
	var f *fault.Error
	if errors.As(err, &f) {
		return f
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &fault.Error{Code: fault.NotFound, Message: err.Error(), Err: err}
	case errors.Is(err, store.ErrInvalid):
		return &fault.Error{Code: fault.InvalidRequest, Message: err.Error(), Err: err}
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrTerminal):
		return &fault.Error{Code: fault.Conflict, Message: err.Error(), Err: err}
	}
	return &fault.Error{Code: fault.Internal, Message: "internal error", Err: err}
}

func logFields(r *http.Request) []any {
	return []any{"request_id", requestID(r), "method", r.Method, "path", r.URL.Path}
}
