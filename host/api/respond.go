package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/toolhost/toolhost/host/domain"
)

// statusOf maps an error code to its HTTP status. Codes not listed are 500.
var statusOf = map[string]int{
	domain.CodeInvalidInput:       http.StatusBadRequest,
	domain.CodeInvalidRequest:     http.StatusBadRequest,
	domain.CodeUnauthorized:       http.StatusUnauthorized,
	domain.CodeForbidden:          http.StatusForbidden,
	domain.CodeNotFound:           http.StatusNotFound,
	domain.CodeMethodNotAllowed:   http.StatusMethodNotAllowed,
	domain.CodeConflict:           http.StatusConflict,
	domain.CodeCancelled:          http.StatusConflict,
	domain.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	domain.CodeRateLimited:        http.StatusTooManyRequests,
	domain.CodeActionFailed:       http.StatusInternalServerError,
	domain.CodeOutputInvalid:      http.StatusInternalServerError,
	domain.CodeInterrupted:        http.StatusInternalServerError,
	domain.CodePluginUnavailable:  http.StatusBadGateway,
	domain.CodeMisconfigured:      http.StatusBadGateway,
	domain.CodeModelError:         http.StatusBadGateway,
	domain.CodeShuttingDown:       http.StatusServiceUnavailable,
	domain.CodeActionTimeout:      http.StatusGatewayTimeout,
	domain.CodeStorageFull:        http.StatusInsufficientStorage,
	domain.CodeStorageUnavailable: http.StatusServiceUnavailable,
}

func httpStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Message string              `json:"message"`
	Code    string              `json:"code"`
	Fields  []domain.FieldError `json:"fields,omitempty"`
	RunID   string              `json:"run_id,omitempty"`
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
	if f.Code == domain.CodeInternal {
		s.log.Error("internal error", "request_id", requestID(r), "error", err)
		f.Message = "internal error"
	}
	msg := f.Message
	if f.Code == domain.CodeActionFailed {
		msg = "[Action execution error] " + msg
	}
	return envelope{Status: "error", Error: &errorBody{Message: msg, Code: f.Code, Fields: f.Fields, RunID: runID}}
}

// toFault gives store errors their API codes.
func toFault(err error) *domain.Error {
	var f *domain.Error
	if errors.As(err, &f) {
		return f
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return &domain.Error{Code: domain.CodeNotFound, Message: err.Error(), Err: err}
	case errors.Is(err, domain.ErrInvalid):
		return &domain.Error{Code: domain.CodeInvalidRequest, Message: err.Error(), Err: err}
	case errors.Is(err, domain.ErrConflict), errors.Is(err, domain.ErrTerminal):
		return &domain.Error{Code: domain.CodeConflict, Message: err.Error(), Err: err}
	}
	return &domain.Error{Code: domain.CodeInternal, Message: "internal error", Err: err}
}

func logFields(r *http.Request) []any {
	return []any{"request_id", requestID(r), "method", r.Method, "path", r.URL.Path}
}
