package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/internal/bearer"
)

// target is a server under load, with its own connection pool.
type target struct {
	name   string // "toolhost" or "floor"
	base   string
	key    string
	client *http.Client
	api    *client.Client
	mcp    *gomcp.ClientSession // set for mcpDoor: runs go through MCP tools/call
	// mcpBodies, set for mcpPostDoor, are the tools/call bodies by tool.
	mcpBodies map[string][]byte
	// apis, when set, are several servers (replicas) that requests go to
	// in turn, as a load balancer would spread them.
	apis []*client.Client
	next atomic.Uint64
}

// spread makes t send its requests to bases in turn (same key and pool).
func (t *target) spread(bases []string) {
	if len(bases) < 2 {
		return
	}
	for _, b := range bases {
		t.apis = append(t.apis, client.New(b, t.key, client.WithHTTPClient(t.client), client.WithUserAgent("toolhost-bench")))
	}
}

func newTarget(name, base, key string) *target {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        4096,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	h := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	return &target{name: name, base: base, key: key, client: h,
		api: client.New(base, key, client.WithHTTPClient(h), client.WithUserAgent("toolhost-bench"))}
}

func (t *target) close() {
	if t.mcp != nil {
		t.mcp.Close()
	}
	t.client.CloseIdleConnections()
}

// mcpDoor names the target that sends toolhost's noop runs as MCP
// tools/call requests to its /mcp, next to the HTTP run route.
const mcpDoor = "toolhost-mcp"

// mcpTools are the MCP tool names of the actions the MCP door loads.
var mcpTools = map[string]string{"noop": "testkit__noop"}

// newMCPTarget connects one MCP client session (the official go-sdk, over
// Streamable HTTP with the API key as a Bearer token) to base's /mcp; the
// clients of a load point share it, as they share the HTTP pool.
func newMCPTarget(ctx context.Context, base, key string) (*target, error) {
	t := newTarget(mcpDoor, base, key)
	h := &http.Client{Transport: bearer.Transport{Key: key, Next: t.client.Transport}, Timeout: t.client.Timeout}
	c := gomcp.NewClient(&gomcp.Implementation{Name: "toolhost-bench", Version: "1"}, nil)
	s, err := c.Connect(ctx, &gomcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: h, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.close()
		return nil, fmt.Errorf("connecting an MCP client to %s/mcp: %w", base, err)
	}
	t.mcp = s
	return t, nil
}

// send makes one run of rq: an HTTP request, or for the MCP door a
// tools/call of rq's tool.
func (t *target) send(ctx context.Context, rq request) error {
	if t.mcpBodies != nil {
		return t.postTool(ctx, rq.tool)
	}
	if t.mcp == nil {
		return t.do(ctx, rq.method, rq.path, rq.body)
	}
	res, err := t.mcp.CallTool(ctx, &gomcp.CallToolParams{Name: rq.tool, Arguments: map[string]any{}})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("tools/call %s: isError: %v", rq.tool, res.Content)
	}
	return nil
}

// errStatus is an answer other than 200.
type errStatus struct {
	code int
	body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

// do sends one request and reads the whole answer; anything but a 200 is
// an error.
func (t *target) do(ctx context.Context, method, path string, body []byte) error {
	var b any
	if body != nil {
		b = body
	}
	api := t.api
	if n := len(t.apis); n > 0 {
		api = t.apis[t.next.Add(1)%uint64(n)]
	}
	r, err := api.Do(ctx, method, path, b, nil)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return &errStatus{r.Status, string(r.Body[:min(len(r.Body), 300)])}
	}
	return nil
}

// request is what one phase sends, over and over.
type request struct {
	method, path string
	body         []byte
	tool         string // the MCP door's tool name (mcpTools)
}

// phaseOut is what a load phase measured: latencies of the requests sent
// in the measuring window and the answers completed in it.
type phaseOut struct {
	lat       []time.Duration
	completed int           // successful answers that arrived in the window
	window    time.Duration // the measuring window
	errors    int
	firstErr  string
	notDone   int // open loop: sent but unanswered when the phase gave up
}

// counters feed the progress line.
type counters struct {
	ok, errs atomic.Int64
}

// loadWorker is what one client of a load phase measured. Requests count
// from "from" (the end of the warm-up); an answer completes in the window
// when it arrives between from and end.
type loadWorker struct {
	lat       []time.Duration
	completed int
	errs      int
	firstErr  string
}

// record notes one request: sent (or due) at start, answered at got.
func (w *loadWorker) record(cnt *counters, start, got, from, end time.Time, err error) {
	if err != nil {
		cnt.errs.Add(1)
		if !start.Before(from) {
			w.errs++
			if w.firstErr == "" {
				w.firstErr = err.Error()
			}
		}
		return
	}
	cnt.ok.Add(1)
	if !start.Before(from) {
		w.lat = append(w.lat, got.Sub(start))
	}
	if !got.Before(from) && !got.After(end) {
		w.completed++
	}
}

// merge adds up what the workers measured over a window of dur.
func merge(ws []loadWorker, dur time.Duration) phaseOut {
	out := phaseOut{window: dur}
	for _, w := range ws {
		out.lat = append(out.lat, w.lat...)
		out.completed += w.completed
		out.errors += w.errs
		if out.firstErr == "" {
			out.firstErr = w.firstErr
		}
	}
	return out
}

// closedLoop runs c clients, each sending its next request as soon as the
// previous answer is in, for warmup+dur; latencies count from the moment
// each request was sent. At c = 1 this is a sequential run.
func closedLoop(ctx context.Context, t *target, rq request, c int, warmup, dur time.Duration, cnt *counters) (phaseOut, error) {
	start := time.Now()
	from, end := start.Add(warmup), start.Add(warmup+dur)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ws := make([]loadWorker, c)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Add(1)
		go func(w *loadWorker) {
			defer wg.Done()
			for {
				sent := time.Now()
				if !sent.Before(end) || pctx.Err() != nil {
					return
				}
				err := t.send(pctx, rq)
				got := time.Now()
				if pctx.Err() != nil {
					return
				}
				w.record(cnt, sent, got, from, end, err)
				if w.errs > 1000 && w.completed == 0 {
					return // the server is broken; do not spin
				}
			}
		}(&ws[i])
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return phaseOut{}, err
	}
	return merge(ws, dur), nil
}

// openLoop sends requests at a fixed arrival rate, whatever the server
// does: request i is due at start + i/rate. Latency counts from the due
// time, not from when a free client got round to sending it, so queueing
// in the load generator or the server is measured, not hidden (coordinated
// omission). maxInflight bounds the goroutines sending; requests due while
// all are busy wait, and that wait is part of their latency.
func openLoop(ctx context.Context, t *target, rq request, rate float64, warmup, dur time.Duration, maxInflight int, cnt *counters) (phaseOut, error) {
	total := int(rate * (warmup + dur).Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	due := make(chan time.Time, total)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now().Add(5 * time.Millisecond)
	from, end := start.Add(warmup), start.Add(warmup+dur)
	go func() {
		defer close(due)
		for i := 0; i < total; i++ {
			at := start.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				select {
				case <-time.After(d):
				case <-pctx.Done():
					return
				}
			}
			due <- at
		}
	}()
	ws := make([]loadWorker, maxInflight)
	var wg sync.WaitGroup
	var handled atomic.Int64
	for i := range ws {
		wg.Add(1)
		go func(w *loadWorker) {
			defer wg.Done()
			for at := range due {
				if pctx.Err() != nil {
					return
				}
				err := t.send(pctx, rq)
				got := time.Now()
				if pctx.Err() != nil {
					return
				}
				handled.Add(1)
				w.record(cnt, at, got, from, end, err)
			}
		}(&ws[i])
	}
	// Give the server 10 s after the last due time to answer the rest.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	giveUp := time.NewTimer(time.Until(end) + 10*time.Second)
	defer giveUp.Stop()
	timedOut := false
	select {
	case <-finished:
	case <-giveUp.C:
		timedOut = true
		cancel()
		<-finished
	case <-ctx.Done():
		cancel()
		<-finished
		return phaseOut{}, ctx.Err()
	}
	out := merge(ws, dur)
	if timedOut {
		out.notDone = total - int(handled.Load())
	}
	return out, nil
}

// countLoop sends n requests from c clients (used to fill history).
func countLoop(ctx context.Context, t *target, rq request, c, n int, cnt *counters) (time.Duration, error) {
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := t.send(ctx, rq); err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, err)
					}
					return
				}
				cnt.ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Latency summarises a set of latencies.
type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

func summarize(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Latency{
		N: len(s), P50: us(rank(s, 0.50)), P90: us(rank(s, 0.90)), P99: us(rank(s, 0.99)),
		Max: us(s[len(s)-1]), Mean: us(sum / time.Duration(len(s))),
	}
}

// rank is the nearest-rank percentile of sorted s.
func rank(s []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
