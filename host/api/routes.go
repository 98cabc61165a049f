package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/tracing"
)

// routes registers every route. Public: /, /health and the OpenAPI
// document; everything else needs an API key.
func (s *server) routes() http.Handler {
	root := mux.NewRouter()
	root.NotFoundHandler = http.HandlerFunc(s.notFound)
	root.MethodNotAllowedHandler = withAllow(root, http.HandlerFunc(s.methodNotAllowed))
	r := muxRouter{r: root, auth: s.withAuth}

	// The run route first: mux tries routes in order and no other route
	// matches its paths, so this spares the hot path the others' matching.
	r.Handle(http.MethodPost, "/actions/{actionId}/run", s.runAction)

	root.HandleFunc("/", s.welcome).Methods(http.MethodGet)
	root.HandleFunc("/health", s.health).Methods(http.MethodGet)
	root.HandleFunc("/v1/actions/specs/openapi", s.openAPISpec).Methods(http.MethodGet)

	r.Handle(http.MethodGet, "/verify-access", s.verifyAccess)
	r.Handle(http.MethodGet, "/plugins", s.listPlugins)
	r.Handle(http.MethodGet, "/plugins/{pluginId}", s.getPlugin)
	r.Handle(http.MethodGet, "/actions", s.listActions)
	r.Handle(http.MethodGet, "/actions/specs/openai-functions", s.openAIFunctions)
	r.Handle(http.MethodGet, "/actions/{actionId}", s.getAction)
	r.Handle(http.MethodGet, "/runs", s.listRuns)
	r.Handle(http.MethodGet, "/runs/{runId}", s.getRun)
	r.Handle(http.MethodGet, "/runs/{runId}/events", s.runEvents)
	r.Handle(http.MethodPost, "/runs/{runId}/cancel", s.cancelRun)
	r.Handle(http.MethodGet, "/admin/plugins/refresh", s.refreshPlugins)
	r.Handle(http.MethodPost, "/admin/plugins/refresh", s.refreshPlugins)
	r.Handle(http.MethodGet, "/admin/keys", s.listKeys)
	r.Handle(http.MethodPost, "/admin/keys", s.createKey)
	r.Handle(http.MethodDelete, "/admin/keys/{name}", s.revokeKey)
	r.Handle(http.MethodPost, "/threads", s.createThread)
	r.Handle(http.MethodGet, "/threads", s.listThreads)
	r.Handle(http.MethodGet, "/threads/{threadId}", s.getThread)
	r.Handle(http.MethodPost, "/threads/{threadId}", s.updateThread)
	r.Handle(http.MethodDelete, "/threads/{threadId}", s.deleteThread)
	r.Handle(http.MethodPost, "/threads/{threadId}/messages", s.createMessage)
	r.Handle(http.MethodGet, "/threads/{threadId}/messages", s.listMessages)
	r.Handle(http.MethodGet, "/threads/{threadId}/messages/{messageId}", s.getMessage)
	r.Handle(http.MethodPost, "/threads/{threadId}/runs", s.createThreadRun)
	r.Handle(http.MethodGet, "/threads/{threadId}/runs/{runId}", s.getThreadRun)
	r.Handle(http.MethodPost, "/threads/{threadId}/runs/{runId}/submit_tool_outputs", s.submitToolOutputs)
	r.Handle(http.MethodPost, "/actions/identify", s.identifyAction)

	root.Use(noteRoute)

	var h http.Handler = root
	h = s.withBodyLimit(h)
	h = s.withAnswerDeadline(h)
	h = s.withCORS(h)
	h = s.withRecover(h)
	h = s.withAccessLog(h)
	h = s.withObserver(h)
	h = tracing.Middleware(s.cfg.Tracer, func(r *http.Request) string { return infoOf(r).route }, h)
	return withRequestID(h)
}

// muxRouter registers authenticated routes under /v1, each needing the
// scope routeScope gives it.
type muxRouter struct {
	r    *mux.Router
	auth func(scope string, next http.Handler) http.Handler
}

func (m muxRouter) Handle(method, path string, h http.HandlerFunc) {
	m.r.Handle("/v1"+path, m.auth(routeScope(method, path), h)).Methods(method)
}

// routeScope is the scope a key needs for a route: admin for /v1/admin,
// read for the other GETs, run for everything else (runs, cancels, threads
// and messages written).
func routeScope(method, path string) string {
	switch {
	case strings.HasPrefix(path, "/admin/"):
		return domain.ScopeAdmin
	case method == http.MethodGet:
		return domain.ScopeRead
	}
	return domain.ScopeRun
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, domain.Errorf(domain.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
}

func (s *server) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)
	if allow := w.Header().Get("Allow"); allow != "" {
		msg += "; allowed: " + allow
	}
	s.fail(w, r, domain.Errorf(domain.CodeMethodNotAllowed, "%s", msg))
}
