package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

type ctxKey int

const keyRequestInfo ctxKey = iota

// requestInfo is what the middleware learns about a request: its id and,
// once authenticated, its caller. It is one context value that each
// middleware fills in, so the request is cloned once, not per middleware.
type requestInfo struct {
	id     string
	caller domain.Caller
	route  string // the matched route's template; "" for none
}

// withInfo returns r's requestInfo, adding an empty one to r if it has
// none.
func withInfo(r *http.Request) (*http.Request, *requestInfo) {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
		return r, info
	}
	info := new(requestInfo)
	return r.WithContext(context.WithValue(r.Context(), keyRequestInfo, info)), info
}

func infoOf(r *http.Request) requestInfo {
	if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
		return *info
	}
	return requestInfo{}
}

func requestID(r *http.Request) string { return infoOf(r).id }

func keyName(r *http.Request) string { return infoOf(r).caller.KeyName }

// callerOf is the authenticated caller of r.
func callerOf(r *http.Request) domain.Caller { return infoOf(r).caller }

// withRequestID takes a sane X-Request-Id from the client or makes one, and
// echoes it back.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = "req_" + hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		r, info := withInfo(r)
		info.id = id
		next.ServeHTTP(w, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status for the access log and passes
// flushes through for streaming.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withAccessLog logs one line per request (never headers or bodies):
// method, route, path, status, bytes, duration, key name and run id. At
// info level when Config.AccessLog is on, else at debug level; with
// neither it costs nothing.
func (s *server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.AccessLog && !s.log.IsDebug() {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		info := infoOf(r)
		fields := append(logFields(r), "route", info.route, "status", rec.status, "bytes", rec.bytes,
			"duration", time.Since(start), "key", info.caller.KeyName)
		if id := w.Header().Get("X-Run-Id"); id != "" {
			fields = append(fields, "run_id", id)
		}
		if s.cfg.AccessLog {
			s.log.Info("request", fields...)
		} else {
			s.log.Debug("request", fields...)
		}
	})
}

// withObserver tells the observer of each request once it is answered.
func (s *server) withObserver(next http.Handler) http.Handler {
	o := s.cfg.Observer
	if o == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		r, info := withInfo(r)
		next.ServeHTTP(rec, r)
		route := info.route
		if route == "" {
			route = "unmatched"
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		o.HTTPRequest(r.Method, route, status, time.Since(start))
	})
}

// noteRoute is the router's middleware (run once a route matched): it
// notes the route's template for the observer and the access log.
func noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt := mux.CurrentRoute(r); rt != nil {
			if tpl, err := rt.GetPathTemplate(); err == nil {
				if info, ok := r.Context().Value(keyRequestInfo).(*requestInfo); ok {
					info.route = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// withRecover turns a panic in a handler into a logged 500 envelope.
func (s *server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panicked", append(logFields(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withCORS answers preflight requests and sets CORS headers for allowed
// origins ("*" allows any).
func (s *server) withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && s.originAllowed(origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Idempotent-Replayed")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Content-Type, X-Api-Key, Authorization, Idempotency-Key, Last-Event-ID, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) originAllowed(origin string) bool {
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// withBodyLimit caps request bodies; handlers that read past it get a 413.
func (s *server) withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.fail(w, r, domain.Errorf(domain.CodeTooLarge, "request body is %d bytes; the limit is %d", r.ContentLength, s.cfg.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if r.ContentLength != 0 {
			// A body is coming: it must arrive within BodyTimeout. net/http
			// lifts the deadline itself once the body has been read (when
			// it starts watching for the client to go away), so a long run
			// or stream is not cut by it; a stalled body fails the request.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout))
		}
		next.ServeHTTP(w, r)
	})
}

// Auth messages, exactly as Connery's runner answered.
const (
	msgNoKey  = "API key is not provided in the x-api-key request header."
	msgBadKey = "API key is not valid."
)

// APIKeyFromHeaders returns the key from x-api-key or Authorization: Bearer.
// present is false when neither header carries one.
func APIKeyFromHeaders(h http.Header) (key string, present bool) {
	return core.KeyFrom(h.Get("X-Api-Key"), h.Get("Authorization"))
}

// withAuth requires a valid key holding scope, within its rate limit for
// run routes, and notes the key's name for run records.
func (s *server) withAuth(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, present := APIKeyFromHeaders(r.Header)
		if !present {
			s.fail(w, r, domain.Errorf(domain.CodeUnauthorized, msgNoKey))
			return
		}
		k, err := s.authenticate(r.Context(), key)
		if err != nil {
			if !errors.Is(err, domain.ErrUnauthorized) && !errors.Is(err, domain.ErrNotFound) {
				s.log.Error("authenticate", "error", err)
			}
			s.fail(w, r, domain.Errorf(domain.CodeUnauthorized, msgBadKey))
			return
		}
		if !k.Allows(scope) {
			s.fail(w, r, domain.Errorf(domain.CodeForbidden, "API key %q lacks the %q scope that %s %s needs", k.Name, scope, r.Method, r.URL.Path))
			return
		}
		if scope == domain.ScopeRun && s.overLimit(w, r, k.Name) {
			return
		}
		r, info := withInfo(r)
		info.caller = domain.CallerOf(k)
		next.ServeHTTP(w, r)
	})
}

func (s *server) authenticate(ctx context.Context, key string) (*domain.APIKey, error) {
	return s.auth.Authenticate(ctx, key)
}
