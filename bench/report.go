package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Results is everything one run of the harness measured. It is written as
// JSON and rendered as markdown.
type Results struct {
	Machine     Machine       `json:"machine"`
	Settings    Settings      `json:"settings"`
	Starts      []StartResult `json:"start_to_ready"`
	Load        []LoadResult  `json:"load"`
	RSS         []RSSResult   `json:"peak_rss"`
	List        []ListResult  `json:"list_page"`
	Files       []FileResult  `json:"bbolt_file"`
	Notes       []string      `json:"notes,omitempty"`
	Interrupted string        `json:"interrupted,omitempty"` // what was running when Ctrl-C came
	Elapsed     float64       `json:"elapsed_s"`
	Fill        *FillResult   `json:"fill_10k,omitempty"`
	Fsync       *FsyncResult  `json:"durability_cost,omitempty"`
}

// Machine names where the numbers come from.
type Machine struct {
	CPUs       int       `json:"nproc"`
	CPUModel   string    `json:"cpu_model"`
	MemTotal   string    `json:"mem_total"`
	Kernel     string    `json:"kernel"`
	GoVersion  string    `json:"go_version"`
	Commit     string    `json:"toolhost_commit"`
	LoadBefore string    `json:"loadavg_before"`
	LoadAfter  string    `json:"loadavg_after"`
	Date       time.Time `json:"date"`
}

// Settings are the flags the run used.
type Settings struct {
	Duration    float64   `json:"duration_s"`
	Warmup      float64   `json:"warmup_s"`
	Concurrency []int     `json:"concurrency"`
	Rates       []float64 `json:"open_loop_rates"`
	MaxInflight int       `json:"open_loop_max_inflight"`
	Actions     []string  `json:"actions"`
	MTLS        bool      `json:"auto_mtls"`
	Starts      int       `json:"starts"`
}

// StartResult is exec to "ready" for one server with n plugins.
type StartResult struct {
	Target  string    `json:"target"`
	Plugins int       `json:"plugins"`
	MS      []float64 `json:"ms"` // each measured start
	Median  float64   `json:"median_ms"`
}

// LoadResult is one load phase.
type LoadResult struct {
	Target      string  `json:"target"`
	Action      string  `json:"action"`
	Mode        string  `json:"mode"` // closed or open
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"` // open loop: offered runs/s
	Latency     Latency `json:"latency"`
	RunsPerSec  float64 `json:"runs_per_s"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	NotDone     int     `json:"unanswered,omitempty"`
	// CPU time per run over the whole phase (warm-up included), from
	// /proc/PID/stat, so at 10 ms tick resolution.
	HostCPU   float64 `json:"host_cpu_us_per_run"`
	PluginCPU float64 `json:"plugin_cpu_us_per_run"`
}

// RSSResult is one process's peak resident set (VmHWM).
type RSSResult struct {
	Target    string `json:"target"`
	Process   string `json:"process"`
	PID       int    `json:"pid"`
	PeakBytes int64  `json:"peak_bytes"`
}

// ListResult is one GET /v1/runs page over HTTP, next to the same query
// made in-process on the store.
type ListResult struct {
	Runs       int     `json:"runs_stored"`
	Query      string  `json:"query"`
	HTTP       Latency `json:"http"`
	Store      Latency `json:"store_in_process"`
	PageLen    int     `json:"page_len"`
	CachedFile bool    `json:"cached_file,omitempty"`
	BuildS     float64 `json:"build_s,omitempty"`
}

// FileResult is the bbolt file size for a number of runs.
type FileResult struct {
	What        string  `json:"what"`
	Runs        int     `json:"runs"`
	Bytes       int64   `json:"bytes"`
	PerHundredK float64 `json:"bytes_per_100k_runs"`
	InUse       int64   `json:"bytes_in_use"` // pages holding data (file less free pages and unused tail)
	InUse100K   float64 `json:"bytes_in_use_per_100k_runs"`
	RecordBytes int     `json:"record_json_bytes,omitempty"`
}

// FillResult is the 10k noop runs sent to fill history for the list page.
type FillResult struct {
	Runs       int     `json:"runs"`
	Clients    int     `json:"clients"`
	Seconds    float64 `json:"seconds"`
	RunsPerSec float64 `json:"runs_per_s"`
}

func (r *Results) addLoad(l LoadResult) {
	r.Load = append(r.Load, l)
}

func (r *Results) findLoad(target, action, mode string, c int, rate float64) *LoadResult {
	for i := range r.Load {
		l := &r.Load[i]
		if l.Target == target && l.Action == action && l.Mode == mode && l.Concurrency == c && l.Rate == rate {
			return l
		}
	}
	return nil
}

// fmtDur renders microseconds with three significant figures.
func fmtDur(v float64) string {
	switch {
	case v <= 0 || math.IsNaN(v):
		return "—"
	case v < 1000:
		return fmt.Sprintf("%.0f µs", v)
	case v < 10_000:
		return fmt.Sprintf("%.2f ms", v/1000)
	case v < 100_000:
		return fmt.Sprintf("%.1f ms", v/1000)
	case v < 10_000_000:
		return fmt.Sprintf("%.0f ms", v/1000)
	}
	return fmt.Sprintf("%.1f s", v/1e6)
}

func fmtRate(v float64) string {
	if v <= 0 {
		return "—"
	}
	if v >= 100 {
		return withCommas(int64(math.Round(v)))
	}
	return fmt.Sprintf("%.1f", v)
}

func withCommas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtBytes(n float64) string {
	switch {
	case n <= 0:
		return "—"
	case n < 1<<20:
		return fmt.Sprintf("%.0f KiB", n/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", n/(1<<30))
}

// durableFloor names the floor that makes each answer durable (write +
// fdatasync) before it sends it; it serves only the sequential noop point.
const durableFloor = "floor+fsync"

// durableFloorLine compares toolhost's sequential noop with the durable
// floor's, measured in the same run.
func (r *Results) durableFloorLine(p func(string, ...any)) {
	th, fd := r.findLoad("toolhost", "noop", "closed", 1, 0), r.findLoad(durableFloor, "noop", "closed", 1, 0)
	if th == nil || fd == nil {
		return
	}
	p("\nThe durable floor, measured: the floor writing each answer to a file and fdatasyncing it before sending it, the least a runner that makes a read run durable before answering can do. Sequential noop p50: durable floor %s (p99 %s), toolhost %s (p99 %s), toolhost ÷ durable floor %s.\n",
		fmtDur(fd.Latency.P50), fmtDur(fd.Latency.P99), fmtDur(th.Latency.P50), fmtDur(th.Latency.P99), ratio(th.Latency.P50, fd.Latency.P50))
}

// mcpClients are the MCP door's targets, as the report names their
// clients.
var mcpClients = []struct{ door, name string }{
	{mcpDoor, "go-sdk client, 2026-07-28"},
	{mcpPostDoor, "one POST, 2025-11-25"},
}

// mcpTable sets the MCP door's noop points beside the HTTP run route's,
// measured in the same run on the same server, for each MCP client.
func (r *Results) mcpTable(p func(string, ...any)) {
	var rows []string
	for _, mc := range mcpClients {
		for _, c := range r.Settings.Concurrency {
			m, h := r.findLoad(mc.door, "noop", "closed", c, 0), r.findLoad("toolhost", "noop", "closed", c, 0)
			if m == nil {
				continue
			}
			t := orZero(h)
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", mc.name, clients(c),
				fmtDur(m.Latency.P50), fmtDur(t.Latency.P50), ratio(m.Latency.P50, t.Latency.P50),
				fmtDur(m.Latency.P99), fmtDur(t.Latency.P99), fmtDur(m.Latency.Max),
				fmtRate(m.RunsPerSec), fmtRate(t.RunsPerSec), ratio(m.RunsPerSec, t.RunsPerSec),
				fmtDur(m.HostCPU), fmtDur(t.HostCPU), errCell(m, nil)))
		}
	}
	if len(rows) == 0 {
		return
	}
	p("\n### noop through MCP `tools/call` (`/mcp`) beside the HTTP run route\n\n")
	p("Same toolhost, same run; ratio is MCP ÷ HTTP; host CPU is toolhost's per run (plugin not included). Two MCP clients: the go-sdk's (one shared session, the newest protocol; its own work shares the CPUs with the server), and one plain POST per call, answer read and checked, as lean as the HTTP route's client.\n\n")
	p("| MCP client | clients | p50 MCP | p50 HTTP | ratio | p99 MCP | p99 HTTP | max MCP | runs/s MCP | runs/s HTTP | ratio | host CPU MCP | host CPU HTTP | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		p("%s", row)
	}
}

// ratio is toolhost over floor, "—" when either is missing.
func ratio(th, fl float64) string {
	if th <= 0 || fl <= 0 {
		return "—"
	}
	return fmt.Sprintf("×%.2f", th/fl)
}

// Markdown renders the tables.
func (r *Results) Markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.Machine
	p("## toolhost benchmark\n\n")
	p("Machine: %d CPUs, %s, %s RAM, Linux %s, %s; toolhost %s; %s.  \n", m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.GoVersion, m.Commit, m.Date.UTC().Format("2006-01-02 15:04 MST"))
	p("Load average (1/5/15 min) before: %s; after: %s. The load generator runs on the same machine.  \n", m.LoadBefore, m.LoadAfter)
	s := r.Settings
	p("Closed loop: %s per point after %s warm-up. Every ratio is toolhost ÷ floor (for runs/s below ×1 means slower).\n", secs(s.Duration), secs(s.Warmup))
	if r.Interrupted != "" {
		p("\n**Interrupted (Ctrl-C) during: %s.** What follows is what was measured before.\n", r.Interrupted)
	}

	if len(r.Starts) > 0 {
		p("\n### Start to ready\n\nExec of the server to its `ready` line, median of %d starts (after one unmeasured start).\n\n", s.Starts)
		p("| plugins | toolhost | floor | ratio |\n|---:|---:|---:|---:|\n")
		for _, n := range uniqueInts(r.Starts, func(x StartResult) int { return x.Plugins }) {
			th, fl := r.start("toolhost", n), r.start("floor", n)
			p("| %d | %s | %s | %s |\n", n, fmtMS(th), fmtMS(fl), ratio(th, fl))
		}
	}

	if f := r.Fsync; f != nil {
		if f.BoltCommit.N == 0 { // results from before the run journal: PutRun was a bbolt commit
			f.BoltCommit = f.PutRun
		}
		p("\n### What durability costs on this disk (sequential, %d samples each)\n\n", f.PutRun.N)
		p("| operation | p50 | p99 | max |\n|---|---:|---:|---:|\n")
		p("| 4 KiB pwrite + fdatasync | %s | %s | %s |\n", fmtDur(f.Fdatasync.P50), fmtDur(f.Fdatasync.P99), fmtDur(f.Fdatasync.Max))
		p("| one bbolt commit shaped like a run record's (page writes in 7 buckets, 2 fdatasyncs) | %s | %s | %s |\n", fmtDur(f.BoltCommit.P50), fmtDur(f.BoltCommit.P99), fmtDur(f.BoltCommit.Max))
		p("| store.PutRun of a noop run record (toolhost: one run journal write + fdatasync) | %s | %s | %s |\n", fmtDur(f.PutRun.P50), fmtDur(f.PutRun.P99), fmtDur(f.PutRun.Max))
		var rows []string
		for _, x := range []struct {
			action  string
			commits float64
			what    string
		}{{"noop", 1, "read: floor + 1 commit"}, {"echo64k", 2, "create: floor + 2 commits"}} {
			th, fl := r.findLoad("toolhost", x.action, "closed", 1, 0), r.findLoad("floor", x.action, "closed", 1, 0)
			if th == nil || fl == nil {
				continue
			}
			budget := fl.Latency.P50 + x.commits*f.BoltCommit.P50
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", x.action, x.what, fmtDur(fl.Latency.P50), fmtDur(budget), fmtDur(th.Latency.P50), ratio(th.Latency.P50, budget)))
		}
		if len(rows) > 0 {
			p("\nDESIGN.md's latency budget (its \"fsync\" is one bbolt commit with fsync, the bbolt commit row) at p50, sequential, against what toolhost measured:\n\n")
			p("| action | rule | floor p50 | budget p50 | toolhost p50 | toolhost ÷ budget |\n|---|---|---:|---:|---:|---:|\n")
			for _, row := range rows {
				p("%s", row)
			}
		}
		r.durableFloorLine(p)
	}

	if len(r.Load) > 0 {
		p("\n### Run latency and throughput, closed loop (`POST /v1/actions/{id}/run`, history on)\n\n")
		p("Clients = concurrent clients, each sending its next run when the last one answers; 1 client is the sequential case.\n\n")
		p("| action | clients | p50 toolhost | p50 floor | ratio | p99 toolhost | p99 floor | ratio | max toolhost | max floor | runs/s toolhost | runs/s floor | ratio | errors |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range s.Actions {
			for _, c := range s.Concurrency {
				th, fl := r.findLoad("toolhost", a, "closed", c, 0), r.findLoad("floor", a, "closed", c, 0)
				if th == nil && fl == nil {
					continue
				}
				t, f := orZero(th), orZero(fl)
				p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", a, clients(c),
					fmtDur(t.Latency.P50), fmtDur(f.Latency.P50), ratio(t.Latency.P50, f.Latency.P50),
					fmtDur(t.Latency.P99), fmtDur(f.Latency.P99), ratio(t.Latency.P99, f.Latency.P99),
					fmtDur(t.Latency.Max), fmtDur(f.Latency.Max),
					fmtRate(t.RunsPerSec), fmtRate(f.RunsPerSec), ratio(t.RunsPerSec, f.RunsPerSec),
					errCell(th, fl))
			}
		}
		r.mcpTable(p)
		r.postgresTable(p)
		p("\n### CPU time per run (closed loop, from /proc/PID/stat over the whole point)\n\n")
		p("| action | clients | toolhost host | toolhost plugin | floor host | floor plugin | ratio of totals |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range s.Actions {
			for _, c := range s.Concurrency {
				th, fl := r.findLoad("toolhost", a, "closed", c, 0), r.findLoad("floor", a, "closed", c, 0)
				if th == nil && fl == nil {
					continue
				}
				t, f := orZero(th), orZero(fl)
				p("| %s | %s | %s | %s | %s | %s | %s |\n", a, clients(c), fmtDur(t.HostCPU), fmtDur(t.PluginCPU), fmtDur(f.HostCPU), fmtDur(f.PluginCPU),
					ratio(t.HostCPU+t.PluginCPU, f.HostCPU+f.PluginCPU))
			}
		}
		var open []LoadResult
		for _, l := range r.Load {
			if l.Mode == "open" && l.Target == "toolhost" {
				open = append(open, l)
			}
		}
		if len(open) > 0 {
			p("\n### Open loop (fixed arrival rate, latency from each run's due time)\n\n")
			p("| action | offered runs/s | p50 toolhost | p50 floor | ratio | p99 toolhost | p99 floor | ratio | max toolhost | max floor | answered runs/s toolhost | floor | errors |\n")
			p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for _, t := range open {
				f := orZero(r.findLoad("floor", t.Action, "open", 0, t.Rate))
				p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.Action, fmtRate(t.Rate),
					fmtDur(t.Latency.P50), fmtDur(f.Latency.P50), ratio(t.Latency.P50, f.Latency.P50),
					fmtDur(t.Latency.P99), fmtDur(f.Latency.P99), ratio(t.Latency.P99, f.Latency.P99),
					fmtDur(t.Latency.Max), fmtDur(f.Latency.Max),
					fmtRate(t.RunsPerSec), fmtRate(f.RunsPerSec), errCell(&t, &f))
			}
		}
	}

	if len(r.RSS) > 0 {
		p("\n### Peak RSS (VmHWM) after the load phases\n\n| process | toolhost | floor | ratio |\n|---|---:|---:|---:|\n")
		var procs []string
		seen := map[string]bool{}
		for _, x := range r.RSS {
			if !seen[x.Process] {
				seen[x.Process] = true
				procs = append(procs, x.Process)
			}
		}
		for _, proc := range procs {
			th, fl := r.rss("toolhost", proc), r.rss("floor", proc)
			p("| %s | %s | %s | %s |\n", proc, fmtBytes(th), fmtBytes(fl), ratio(th, fl))
		}
	}

	if len(r.List) > 0 {
		p("\n### `GET /v1/runs` page (limit 20), sequential\n\nThe floor has no history; the reference is the same query made in-process on the store (`store.ListRuns`, no HTTP, no JSON).\n\n")
		p("| runs stored | query | p50 HTTP | p99 HTTP | max HTTP | p50 in-process | ratio |\n|---:|---|---:|---:|---:|---:|---:|\n")
		for _, l := range r.List {
			note := ""
			if l.CachedFile {
				note = " (cached file)"
			} else if l.BuildS > 0 {
				note = fmt.Sprintf(" (file built in %.0f s)", l.BuildS)
			}
			p("| %s%s | `%s` | %s | %s | %s | %s | %s |\n", withCommas(int64(l.Runs)), note, l.Query,
				fmtDur(l.HTTP.P50), fmtDur(l.HTTP.P99), fmtDur(l.HTTP.Max), fmtDur(l.Store.P50), ratio(l.HTTP.P50, l.Store.P50))
		}
	}
	if r.Fill != nil {
		p("\nFilling history for the first list page: %s noop runs from %d clients in %.1f s = %s runs/s.\n", withCommas(int64(r.Fill.Runs)), r.Fill.Clients, r.Fill.Seconds, fmtRate(r.Fill.RunsPerSec))
	}

	if len(r.Files) > 0 {
		p("\n### bbolt file size (the floor stores nothing)\n\nIn use = pages holding data (the file grows in steps of up to 16 MiB and keeps free pages).\n\n")
		p("| data | runs | record JSON | file size | per 100k runs | in use | in use per 100k runs |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, f := range r.Files {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", f.What, withCommas(int64(f.Runs)), fmt.Sprintf("%d B", f.RecordBytes),
				fmtBytes(float64(f.Bytes)), fmtBytes(f.PerHundredK), fmtBytes(float64(f.InUse)), fmtBytes(f.InUse100K))
		}
	}
	if len(r.Notes) > 0 {
		p("\nNotes:\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
	}
	p("\nHarness wall time: %.0f s.\n", r.Elapsed)
	return b.String()
}

func clients(c int) string {
	if c == 1 {
		return "1 (sequential)"
	}
	return fmt.Sprint(c)
}

func errCell(th, fl *LoadResult) string {
	t, f := orZero(th), orZero(fl)
	if t.Errors+f.Errors+t.NotDone+f.NotDone == 0 {
		return "0"
	}
	s := fmt.Sprintf("%d / %d", t.Errors+t.NotDone, f.Errors+f.NotDone)
	return s
}

func orZero(l *LoadResult) LoadResult {
	if l == nil {
		return LoadResult{}
	}
	return *l
}

func (r *Results) start(target string, n int) float64 {
	for _, s := range r.Starts {
		if s.Target == target && s.Plugins == n {
			return s.Median
		}
	}
	return 0
}

func (r *Results) rss(target, proc string) float64 {
	for _, x := range r.RSS {
		if x.Target == target && x.Process == proc {
			return float64(x.PeakBytes)
		}
	}
	return 0
}

func uniqueInts[T any](xs []T, f func(T) int) []int {
	seen := map[int]bool{}
	var out []int
	for _, x := range xs {
		if v := f(x); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

func fmtMS(ms float64) string {
	if ms <= 0 {
		return "—"
	}
	return fmtDur(ms * 1000)
}

func secs(s float64) string { return (time.Duration(s * float64(time.Second))).String() }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
