package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
)

// withAllow sets the Allow header of a 405 answer (RFC 9110 §15.5.6): the
// methods that some route of root takes for the request's path.
func withAllow(root *mux.Router, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed := allowedMethods(root, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
		next.ServeHTTP(w, r)
	})
}

// allowedMethods lists, sorted, the methods root's routes take for r's path.
func allowedMethods(root *mux.Router, r *http.Request) []string {
	var allowed []string
	_ = root.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a route without a method matcher
		}
		for _, m := range methods {
			if slices.Contains(allowed, m) {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			var match mux.RouteMatch
			if route.Match(probe, &match) && match.MatchErr == nil {
				allowed = append(allowed, m)
			}
		}
		return nil
	})
	slices.Sort(allowed)
	return allowed
}
