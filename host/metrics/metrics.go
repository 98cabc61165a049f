// Package metrics is the host's Prometheus metrics: the observers the core,
// the store, the API and the MCP door call (each a counter or histogram
// update, no locks of ours on the hot path), gauges read when scraped (runs
// in flight, queue depth, plugins), and the GET /metrics handler.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/toolhost/toolhost/host/domain"
)

// Sources are what the gauges read at scrape time.
type Sources struct {
	// InFlight is the number of runs admitted and not yet ended.
	InFlight func() int
	// Queue is the number of runs waiting for a worker, and the capacity.
	Queue func() (waiting, capacity int)
	// Plugins lists the plugins with their status and restarts.
	Plugins func() []domain.PluginInfo
}

// Metrics holds the host's collectors in a registry of its own.
type Metrics struct {
	reg *prometheus.Registry

	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	httpReqs    *prometheus.CounterVec
	httpDur     *prometheus.HistogramVec
	mcpCalls    *prometheus.CounterVec
	commit      prometheus.Histogram
	journal     prometheus.Histogram
	commitSize  prometheus.Histogram
}

// RunBuckets are the run-duration histogram's buckets, in seconds.
var RunBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// WriteBuckets are the store latency histograms' buckets, in seconds.
var WriteBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// New makes the collectors and registers them, with Go runtime and process
// metrics, in a new registry.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.runs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "toolhost_runs_total", Help: "Runs ended, by action (plugin.action, or the run kind) and final status.",
	}, []string{"action", "status"})
	m.runDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "toolhost_run_duration_seconds", Help: "How long runs ran (from start to end; runs ended before starting are not counted), by action.",
		Buckets: RunBuckets,
	}, []string{"action"})
	m.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "toolhost_http_requests_total", Help: "HTTP requests answered, by method, route template and status code.",
	}, []string{"method", "route", "code"})
	m.httpDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "toolhost_http_request_duration_seconds", Help: "HTTP request latency by route template (streams count until they close).",
		Buckets: prometheus.DefBuckets,
	}, []string{"route"})
	m.mcpCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "toolhost_mcp_requests_total", Help: "MCP requests handled, by method and outcome (ok or error).",
	}, []string{"method", "outcome"})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "toolhost_store_commit_duration_seconds", Help: "Store group commits (one bbolt transaction with its fsync).",
		Buckets: WriteBuckets,
	})
	m.commitSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "toolhost_store_commit_batch_size", Help: "Writes sharing one store group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
	})
	m.journal = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "toolhost_store_journal_write_duration_seconds", Help: "Run journal writes (with their fdatasync).",
		Buckets: WriteBuckets,
	})
	m.reg.MustRegister(m.runs, m.runDuration, m.httpReqs, m.httpDur, m.mcpCalls, m.commit, m.commitSize, m.journal,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.InFlight != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "toolhost_runs_in_flight", Help: "Runs admitted and not yet ended (running or queued).",
		}, func() float64 { return float64(src.InFlight()) }))
	}
	if src.Queue != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "toolhost_queue_depth", Help: "Non-blocking runs waiting for a worker.",
			}, func() float64 { n, _ := src.Queue(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "toolhost_queue_capacity", Help: "How many non-blocking runs may wait for a worker.",
			}, func() float64 { _, c := src.Queue(); return float64(c) }))
	}
	if src.Plugins != nil {
		m.reg.MustRegister(pluginCollector{src.Plugins})
	}
	return m
}

// Registry is the registry the collectors are in (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// RunEnded is core.Observer.
func (m *Metrics) RunEnded(action, status string, ran time.Duration, started bool) {
	m.runs.WithLabelValues(action, status).Inc()
	if started {
		m.runDuration.WithLabelValues(action).Observe(ran.Seconds())
	}
}

// Committed is store.Observer.
func (m *Metrics) Committed(took time.Duration, n int) {
	m.commit.Observe(took.Seconds())
	m.commitSize.Observe(float64(n))
}

// JournalWritten is store.Observer.
func (m *Metrics) JournalWritten(took time.Duration, _ int) { m.journal.Observe(took.Seconds()) }

// HTTPRequest is api.Observer.
func (m *Metrics) HTTPRequest(method, route string, status int, took time.Duration) {
	m.httpReqs.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDur.WithLabelValues(route).Observe(took.Seconds())
}

// MCPCall is mcp.Observer.
func (m *Metrics) MCPCall(method string, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	m.mcpCalls.WithLabelValues(method, outcome).Inc()
}

// pluginCollector reads the plugins' state at scrape time.
type pluginCollector struct{ list func() []domain.PluginInfo }

var (
	pluginUpDesc = prometheus.NewDesc("toolhost_plugin_up",
		"1 when the plugin can serve runs (ready, or idle: lazy and not started yet), else 0; status is its state.", []string{"plugin", "status"}, nil)
	pluginRestartsDesc = prometheus.NewDesc("toolhost_plugin_restarts_total",
		"Times the plugin's process was restarted since the host started.", []string{"plugin"}, nil)
)

func (c pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginUpDesc
	ch <- pluginRestartsDesc
}

func (c pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.list() {
		up := 0.0
		if p.Status == domain.PluginReady || p.Status == domain.PluginIdle {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginUpDesc, prometheus.GaugeValue, up, p.Name, string(p.Status))
		ch <- prometheus.MustNewConstMetric(pluginRestartsDesc, prometheus.CounterValue, float64(p.Restarts), p.Name)
	}
}
