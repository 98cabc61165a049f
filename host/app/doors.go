package app

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/mcp"
	"github.com/toolhost/toolhost/host/tracing"
)

// door is a handler for the paths under one prefix, beside the HTTP API.
type door struct {
	prefix string // "/metrics" matches itself; "/console" itself and below
	route  string // its route label for the HTTP metrics
	h      http.Handler
}

func (d door) matches(path string) bool {
	return path == d.prefix || strings.HasPrefix(path, d.prefix+"/")
}

// httpObserver is the API's observer, to count the other doors' requests
// by the same metric (nil: not counted).
type httpObserver interface {
	HTTPRequest(method, route string, status int, took time.Duration)
}

// doors is the host's one handler: /mcp and /mcp/{plugin} go to the MCP
// door, the other doors (metrics, the console) to theirs, everything else
// to the HTTP API.
func doors(api http.Handler, m *mcp.Handler, obs httpObserver, tracer trace.Tracer, others ...door) http.Handler {
	var ds []door
	if m != nil {
		ds = append(ds, door{prefix: "/mcp", route: "/mcp", h: m})
	}
	for _, d := range others {
		if d.h != nil {
			ds = append(ds, d)
		}
	}
	for i := range ds {
		route := ds[i].route
		ds[i].h = tracing.Middleware(tracer, func(*http.Request) string { return route }, observed(obs, route, ds[i].h))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, d := range ds {
			if d.matches(r.URL.Path) {
				d.h.ServeHTTP(w, r)
				return
			}
		}
		api.ServeHTTP(w, r)
	})
}

// observed counts a door's requests under one route label.
func observed(obs httpObserver, route string, h http.Handler) http.Handler {
	if obs == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &tracing.StatusWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		obs.HTTPRequest(r.Method, route, rec.Status(), time.Since(start))
	})
}
