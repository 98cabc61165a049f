package app

import (
	"fmt"
	"net/http"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/metrics"
)

// newMetrics makes the host's metrics (nil when plugins.hcl turns them
// off). The gauges read the runner and the supervisor when scraped, so
// they may be made before either.
func (a *App) newMetrics() *metrics.Metrics {
	if a.Config.Metrics.Disabled {
		return nil
	}
	return metrics.New(metrics.Sources{
		InFlight: func() int { return a.Runner.InFlight() },
		Queue:    func() (int, int) { return a.Runner.QueueDepth() },
		Plugins: func() []domain.PluginInfo {
			ps := a.Supervisor.List()
			out := make([]domain.PluginInfo, len(ps))
			for i, p := range ps {
				out[i] = p.Info()
			}
			return out
		},
	})
}

// MetricsHandler serves GET /metrics without asking for a key, for a
// separate metrics_listen address; nil when metrics are off.
func (a *App) MetricsHandler() http.Handler {
	if a.Metrics == nil {
		return nil
	}
	return a.Metrics.Handler()
}

// metricsDoor is GET /metrics on the main address: it needs a key with the
// read scope (x-api-key or Authorization: Bearer, as Prometheus'
// authorization setting sends) unless metrics are public. With
// metrics_listen set it is served there instead, and here is not found.
func (a *App) metricsDoor(auth *core.Authenticator) http.Handler {
	if a.Metrics == nil || a.Config.Metrics.Listen != "" {
		return nil
	}
	h := a.Metrics.Handler()
	if a.Config.Metrics.Public {
		return onlyGet(h)
	}
	return onlyGet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, present := core.KeyFrom(r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"))
		if !present {
			w.Header().Set("WWW-Authenticate", `Bearer realm="toolhost"`)
			http.Error(w, "GET /metrics needs an API key with the read scope (x-api-key or Authorization: Bearer)", http.StatusUnauthorized)
			return
		}
		k, err := auth.Authenticate(r.Context(), key)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="toolhost", error="invalid_token"`)
			http.Error(w, "API key is not valid.", http.StatusUnauthorized)
			return
		}
		if !k.Allows(domain.ScopeRead) {
			http.Error(w, fmt.Sprintf("API key %q lacks the %q scope that GET /metrics needs", k.Name, domain.ScopeRead), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

func onlyGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method "+r.Method+" is not allowed on /metrics", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}
