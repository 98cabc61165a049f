// Command bench is toolhost's benchmark harness (make bench). It builds the
// real binaries, starts `toolhost serve` with the testkit plugin and a
// floor server (a bare net/http handler making one gRPC call to the same
// plugin, nothing stored), drives both over loopback HTTP, and prints a
// markdown table with every toolhost figure next to the floor's. It also
// writes results.md, results.json and chart.svg into -out. See README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	duration    time.Duration
	warmup      time.Duration
	concurrency []int
	rates       []float64 // nil: 25%, 50% and 90% of toolhost's best closed-loop noop runs/s
	maxInflight int
	actions     []string
	jsonOut     bool
	out         string
	starts      int
	list        bool
	list1M      bool
	listN       int
	fill        int
	mtls        bool
	mcp         bool
	keep        bool
	repo        string
	from        string
	cpuProfile  string
	metrics     bool // toolhost's Prometheus metrics (on by default, as shipped)
	tracing     bool // OpenTelemetry traces to an OTLP sink the bench runs
	traceSink   string
	postgres    bool    // the Postgres column: one and two replicas on a throwaway PostgreSQL
	replicaCPU  float64 // > 0: each Postgres replica (with its plugins) capped at this many CPUs
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout io.Writer, stderr *os.File) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if opts.from != "" {
		return rerender(opts, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	prog := newProgress(stderr)
	res := &Results{Machine: machine(opts.repo), Settings: Settings{
		Duration: opts.duration.Seconds(), Warmup: opts.warmup.Seconds(), Concurrency: opts.concurrency,
		Rates: opts.rates, MaxInflight: opts.maxInflight, Actions: opts.actions, MTLS: opts.mtls, Starts: opts.starts,
	}}
	start := time.Now()
	b := &bench{opts: opts, prog: prog, res: res}
	err = b.run(ctx)
	interrupted := ctx.Err() != nil // before stop, which cancels ctx too
	stopAll()                       // never leave a server behind, whatever happened
	prog.Done()
	stop()
	res.Elapsed = math.Round(time.Since(start).Seconds())
	res.Machine.LoadAfter = loadavg()
	code := 0
	switch {
	case err == nil:
	case interrupted:
		res.Interrupted = b.current
		fmt.Fprintf(stderr, "bench: interrupted during %s; servers stopped. Measured so far:\n", b.current)
		code = 130
	default:
		res.Notes = append(res.Notes, "stopped early: "+err.Error())
		fmt.Fprintf(stderr, "bench: %v\n", err)
		code = 1
	}
	if !opts.keep && b.work != "" {
		os.RemoveAll(b.work)
	} else if b.work != "" {
		fmt.Fprintln(stderr, "bench: kept", b.work)
	}
	md := res.Markdown()
	js, _ := json.MarshalIndent(res, "", "  ")
	if opts.jsonOut {
		fmt.Fprintf(stdout, "%s\n", js)
	} else {
		fmt.Fprint(stdout, md)
	}
	if opts.out != "" {
		if err := writeOut(opts.out, md, js, res); err != nil {
			fmt.Fprintln(stderr, "bench: writing results:", err)
			if code == 0 {
				code = 1
			}
		} else {
			fmt.Fprintf(stderr, "bench: wrote %s\n", strings.Join([]string{
				filepath.Join(opts.out, "results.md"), filepath.Join(opts.out, "results.json"), filepath.Join(opts.out, "chart.svg")}, ", "))
		}
	}
	return code
}

// rerender reads a results.json and writes the table and chart again.
func rerender(opts options, stdout io.Writer, stderr io.Writer) int {
	raw, err := os.ReadFile(opts.from)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	var res Results
	if err := json.Unmarshal(raw, &res); err != nil {
		fmt.Fprintf(stderr, "bench: %s: %v\n", opts.from, err)
		return 1
	}
	md := res.Markdown()
	if opts.jsonOut {
		fmt.Fprintf(stdout, "%s\n", raw)
	} else {
		fmt.Fprint(stdout, md)
	}
	if opts.out != "" {
		js, _ := json.MarshalIndent(&res, "", "  ")
		if err := writeOut(opts.out, md, js, &res); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var conc, rates, actions string
	fs.DurationVar(&o.duration, "duration", 1500*time.Millisecond, "measuring time of each load point (after the warm-up)")
	fs.DurationVar(&o.warmup, "warmup", 250*time.Millisecond, "warm-up before each load point, not measured")
	fs.StringVar(&conc, "concurrency", "1,8,32,64,128", "closed-loop client counts, comma-separated (1 is the sequential case)")
	fs.StringVar(&rates, "rate", "auto", "open-loop arrival rates in runs/s, comma-separated; auto = 25%, 50% and 90% of toolhost's best closed-loop noop runs/s; 0 = no open-loop points")
	fs.IntVar(&o.maxInflight, "max-inflight", 1024, "open loop: most requests in flight at once (later ones wait, and the wait counts)")
	fs.StringVar(&actions, "actions", "noop,sleep10ms,echo64k", "actions to load: noop, sleep10ms, echo64k")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON on stdout instead of the markdown table")
	fs.StringVar(&o.out, "out", "bench/out", "directory for results.md, results.json and chart.svg (empty: none)")
	fs.IntVar(&o.starts, "starts", 3, "measured starts per server and plugin count (after one unmeasured)")
	fs.BoolVar(&o.list, "list", true, "measure GET /v1/runs pages at 10k runs (and 1M with -list1m)")
	fs.BoolVar(&o.list1M, "list1m", true, "also at 1M runs: the file is built once (20-40 s) and cached in "+history1MDir())
	fs.IntVar(&o.listN, "list-requests", 300, "GET /v1/runs requests per query")
	fs.IntVar(&o.fill, "fill", 10_000, "noop runs sent through HTTP to fill history for the first list page (the 10k point)")
	fs.BoolVar(&o.mcp, "mcp", true, "also send the noop points as MCP tools/call requests to toolhost's /mcp (go-sdk client), next to the HTTP run route")
	fs.BoolVar(&o.mtls, "mtls", false, "go-plugin AutoMTLS between host and plugins, for toolhost and the floor alike")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (binaries, data dirs, server logs)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phases' toolhost to this file (a build of bench/profiled)")
	fs.StringVar(&o.from, "from", "", "measure nothing: render the table and chart again from a results.json")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.BoolVar(&o.metrics, "metrics", true, "toolhost's Prometheus metrics on (false: metrics { enabled = false })")
	fs.BoolVar(&o.tracing, "tracing", false, "OpenTelemetry traces on, exported over OTLP/HTTP to a sink the bench runs")
	fs.Float64Var(&o.replicaCPU, "pg-replica-cpu", 0, "cap each Postgres replica and its plugins at this many CPUs (a cgroup CPU quota, Linux, root), as if each had a machine of its own; 0: no cap")
	fs.BoolVar(&o.postgres, "postgres", true, "also load toolhost on PostgreSQL (a throwaway cluster; skipped with a note without the binaries), one replica and two, at 1 and 64 clients")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-concurrency: %q is not a positive integer", f)
		}
		o.concurrency = append(o.concurrency, n)
	}
	switch rates = strings.TrimSpace(rates); rates {
	case "auto":
	case "0", "":
		o.rates = []float64{}
	default:
		for _, f := range strings.Split(rates, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v <= 0 {
				return o, fmt.Errorf("-rate: %q is not a positive number", f)
			}
			o.rates = append(o.rates, v)
		}
	}
	for _, a := range strings.Split(actions, ",") {
		a = strings.TrimSpace(a)
		if _, ok := actionRequests[a]; !ok {
			return o, fmt.Errorf("-actions: unknown action %q (noop, sleep10ms, echo64k)", a)
		}
		o.actions = append(o.actions, a)
	}
	if o.duration <= 0 || o.warmup < 0 || o.maxInflight < 1 || o.starts < 1 {
		return o, errors.New("-duration, -max-inflight and -starts must be positive, -warmup not negative")
	}
	if o.replicaCPU < 0 || o.replicaCPU > 64 {
		return o, fmt.Errorf("-pg-replica-cpu: %g is not a CPU count between 0 (no cap) and 64", o.replicaCPU)
	}
	if o.repo == "" {
		r, err := findRepo()
		if err != nil {
			return o, err
		}
		o.repo = r
	}
	if o.out == "bench/out" { // the default: inside the repository wherever it is run from
		o.out = filepath.Join(o.repo, "bench", "out")
	}
	return o, nil
}

// actionRequests are the runs the load phases send.
var actionRequests = map[string]request{
	"noop":      {"POST", "/v1/actions/testkit.noop/run", []byte(`{"input":{}}`), mcpTools["noop"]},
	"sleep10ms": {"POST", "/v1/actions/testkit.sleep/run", []byte(`{"input":{"ms":10}}`), ""},
	"echo64k":   {"POST", "/v1/actions/testkit.echo/run", echoBody(64 << 10), ""},
}

func echoBody(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	text := make([]byte, n)
	for i := range text {
		text[i] = alphabet[i%len(alphabet)]
	}
	return []byte(`{"input":{"text":"` + string(text) + `"}}`)
}

func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/toolhost/toolhost\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the toolhost repository, or pass -repo")
		}
		dir = parent
	}
}

// bench is one run of the harness.
type bench struct {
	opts    options
	prog    *progress
	res     *Results
	current string // the step under way, for an interrupt's message
	work    string
	bins    struct{ toolhost, testkit, floor, profiled string }
	key     string
}

func (b *bench) step(expected time.Duration, cnt *counters, format string, a ...any) {
	b.current = fmt.Sprintf(format, a...)
	b.prog.Step(expected, cnt, "%s", b.current)
}

func (b *bench) run(ctx context.Context) error {
	var err error
	b.work, err = os.MkdirTemp("", "toolhost-bench-")
	if err != nil {
		return err
	}
	b.key = "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	b.step(0, nil, "building toolhost, testkit and the floor")
	b.bins.toolhost, b.bins.testkit, b.bins.floor, err = buildBinaries(ctx, b.opts.repo, filepath.Join(b.work, "bin"))
	if err != nil {
		return err
	}
	if b.opts.cpuProfile != "" {
		if b.opts.cpuProfile, err = filepath.Abs(b.opts.cpuProfile); err != nil {
			return err
		}
		b.bins.profiled = filepath.Join(b.work, "bin", "profiled")
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", b.bins.profiled, "./bench/profiled")
		cmd.Dir = b.opts.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./bench/profiled: %v\n%s", err, out)
		}
		b.res.Notes = append(b.res.Notes, "the load phases' toolhost ran under a CPU profiler (-cpuprofile), which costs a few per cent")
	}
	b.res.Machine.LoadBefore = loadavg()
	if err := b.startTimes(ctx); err != nil {
		return err
	}
	b.step(0, nil, "timing fdatasync, a bbolt commit and store.PutRun on this disk")
	if b.res.Fsync, err = measureFsync(ctx, b.work, 200); err != nil {
		return fmt.Errorf("measuring fsync: %w", err)
	}
	if err := b.loadPhases(ctx); err != nil {
		return err
	}
	if b.opts.postgres {
		if err := b.postgresPhases(ctx); err != nil {
			return err
		}
	}
	if b.opts.list {
		if err := b.listPages(ctx); err != nil {
			return err
		}
	}
	return nil
}

// toolhostConfig writes a plugins.hcl with n copies of testkit (testkit,
// testkit2, ...) and retention that never prunes during a run.
func (b *bench) toolhostConfig(name string, n int) (string, error) {
	var s strings.Builder
	fmt.Fprintf(&s, "listen = \"127.0.0.1:0\"\nauto_mtls = %t\n", b.opts.mtls)
	s.WriteString("retention {\n  max_runs = 100000000\n  max_age  = \"876000h\"\n  interval = \"24h\"\n}\n")
	if !b.opts.metrics {
		s.WriteString("metrics {\n  enabled = false\n}\n")
	}
	if b.opts.tracing {
		if b.opts.traceSink == "" {
			addr, err := startTraceSink()
			if err != nil {
				return "", err
			}
			b.opts.traceSink = addr
		}
		fmt.Fprintf(&s, "tracing {\n  endpoint = %q\n  insecure = true\n}\n", b.opts.traceSink)
	}
	for i := 1; i <= n; i++ {
		pname := "testkit"
		if i > 1 {
			pname = fmt.Sprintf("testkit%d", i)
		}
		fmt.Fprintf(&s, "plugin %q {\n  path        = %q\n  concurrency = 1024\n}\n", pname, b.bins.testkit)
	}
	path := filepath.Join(b.work, name+".hcl")
	return path, os.WriteFile(path, []byte(s.String()), 0o600)
}

// startToolhost starts toolhost serve with n plugins on dataDir.
func (b *bench) startToolhost(ctx context.Context, tag string, n int, dataDir string) (*server, error) {
	cfg, err := b.toolhostConfig(fmt.Sprintf("plugins-%d", n), n)
	if err != nil {
		return nil, err
	}
	spec := serverSpec{
		kind: "toolhost", bin: b.bins.toolhost,
		args: []string{"serve", "--config", cfg, "--data-dir", dataDir, "--listen", "127.0.0.1:0"},
		env:  []string{"TOOLHOST_API_KEY=" + b.key},
		log:  filepath.Join(b.work, "toolhost-"+tag+".log"),
	}
	if tag == "load" && b.opts.cpuProfile != "" {
		spec.bin = b.bins.profiled
		spec.env = append(spec.env, "TOOLHOST_BENCH_CPUPROFILE="+b.opts.cpuProfile)
	}
	return startServer(ctx, spec)
}

func (b *bench) startFloor(ctx context.Context, tag string, n int, extra ...string) (*server, error) {
	args := append([]string{"-plugin", b.bins.testkit, "-plugins", strconv.Itoa(n), "-listen", "127.0.0.1:0"}, extra...)
	if b.opts.mtls {
		args = append(args, "-mtls")
	}
	return startServer(ctx, serverSpec{kind: "floor", bin: b.bins.floor, args: args,
		log: filepath.Join(b.work, "floor-"+tag+".log")})
}

// startTimes measures exec to "ready" with 2 and 20 plugins. toolhost
// reuses one data directory per plugin count; its first, unmeasured start
// creates the file.
func (b *bench) startTimes(ctx context.Context) error {
	for _, n := range []int{2, 20} {
		dataDir := filepath.Join(b.work, fmt.Sprintf("data-start-%d", n))
		for _, kind := range []string{"toolhost", "floor"} {
			sr := StartResult{Target: kind, Plugins: n}
			for i := 0; i <= b.opts.starts; i++ {
				b.step(0, nil, "start to ready: %s with %d plugins (%d of %d)", kind, n, i+1, b.opts.starts+1)
				var s *server
				var err error
				tag := fmt.Sprintf("start-%d-%d", n, i)
				if kind == "toolhost" {
					s, err = b.startToolhost(ctx, tag, n, dataDir)
				} else {
					s, err = b.startFloor(ctx, tag, n)
				}
				if err != nil {
					return err
				}
				s.stop()
				if i > 0 {
					sr.MS = append(sr.MS, float64(s.ready.Microseconds())/1000)
				}
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			sr.Median = median(sr.MS)
			b.res.Starts = append(b.res.Starts, sr)
		}
	}
	return nil
}

// loadPhases runs every closed-loop point, then the open-loop ones, on one
// toolhost and one floor (2 plugins each), interleaving the two so that
// load from elsewhere on the machine falls on both alike.
func (b *bench) loadPhases(ctx context.Context) error {
	b.step(0, nil, "starting toolhost and the floor for the load phases")
	th, err := b.startToolhost(ctx, "load", 2, filepath.Join(b.work, "data-load"))
	if err != nil {
		return err
	}
	defer th.stop()
	fl, err := b.startFloor(ctx, "load", 2)
	if err != nil {
		return err
	}
	defer fl.stop()
	// The durable floor (see bench/floor) only serves the sequential noop
	// point: DESIGN.md's read-run budget, measured instead of added up.
	fd, err := b.startFloor(ctx, "load-fsync", 2, "-fsync", filepath.Join(b.work, "floor-fsync.record"))
	if err != nil {
		return err
	}
	defer fd.stop()
	targets := []*target{newTarget("floor", fl.base, ""), newTarget("toolhost", th.base, b.key)}
	durable := newTarget(durableFloor, fd.base, "")
	extra := []*target{durable}
	servers := map[string]*server{"floor": fl, "toolhost": th, durableFloor: fd, mcpDoor: th, mcpPostDoor: th}
	var mcpTs []*target // the MCP door: go-sdk client, then plain POSTs
	if b.opts.mcp {
		mcpT, err := newMCPTarget(ctx, th.base, b.key)
		if err != nil {
			return err
		}
		postT, err := newMCPPostTarget(th.base, b.key)
		if err != nil {
			mcpT.close()
			return err
		}
		mcpTs = []*target{mcpT, postT}
		extra = append(extra, mcpTs...)
	}
	// pointTargets: the durable floor serves only the sequential noop
	// point, the MCP door every noop point, after the HTTP run route.
	pointTargets := func(a string, c int) []*target {
		ts := targets[:len(targets):len(targets)]
		if a == "noop" && c == 1 {
			ts = append(ts, durable)
		}
		if _, ok := mcpTools[a]; ok {
			ts = append(ts, mcpTs...)
		}
		return ts
	}
	measured, snapped := false, false
	snapshot := func() { // peak RSS, also when interrupted
		if measured && !snapped {
			snapped = true
			b.res.RSS = append(b.res.RSS, th.memSnapshot()...)
			b.res.RSS = append(b.res.RSS, fl.memSnapshot()...)
		}
	}
	defer snapshot()
	// phase runs one load point and adds the server's CPU time per run.
	phase := func(t *target, cnt *counters, f func() (phaseOut, error), a, mode string, c int, rate float64) error {
		h0, p0 := servers[t.name].cpuUsed()
		out, err := f()
		if err != nil {
			return err
		}
		measured = true
		h1, p1 := servers[t.name].cpuUsed()
		lr := loadResult(t.name, a, mode, c, rate, out)
		if n := cnt.ok.Load() + cnt.errs.Load(); n > 0 {
			lr.HostCPU, lr.PluginCPU = us(h1-h0)/float64(n), us(p1-p0)/float64(n)
		}
		b.res.addLoad(lr)
		return nil
	}
	defer func() {
		for _, t := range append(targets, extra...) {
			t.close()
		}
	}()
	// One run each first: a broken setup fails here with a clear message.
	for _, t := range append(targets, extra...) {
		for _, a := range b.opts.actions {
			rq := actionRequests[a]
			if slices.Contains(mcpTs, t) && rq.tool == "" {
				continue // the MCP door only loads the actions in mcpTools
			}
			if err := t.send(ctx, rq); err != nil {
				return fmt.Errorf("%s: first %s run: %w", t.name, a, err)
			}
		}
	}
	nOpen := len(b.opts.rates)
	if b.opts.rates == nil {
		nOpen = 3
	}
	total := nOpen * len(targets)
	for _, a := range b.opts.actions {
		for _, c := range b.opts.concurrency {
			total += len(pointTargets(a, c))
		}
	}
	i := 0
	phaseLen := b.opts.warmup + b.opts.duration
	for _, a := range b.opts.actions {
		rq := actionRequests[a]
		for _, c := range b.opts.concurrency {
			for _, t := range pointTargets(a, c) {
				i++
				cnt := &counters{}
				b.step(phaseLen, cnt, "load %d/%d: %s %s, %d client(s), closed loop", i, total, t.name, a, c)
				err := phase(t, cnt, func() (phaseOut, error) {
					return closedLoop(ctx, t, rq, c, b.opts.warmup, b.opts.duration, cnt)
				}, a, "closed", c, 0)
				if err != nil {
					return err
				}
			}
		}
	}
	rates := b.opts.rates
	if rates == nil {
		best := 0.0
		for _, l := range b.res.Load {
			if l.Target == "toolhost" && l.Action == "noop" && l.Mode == "closed" {
				best = max(best, l.RunsPerSec)
			}
		}
		if best == 0 {
			best = 1000
		}
		rates = []float64{roundRate(best * 0.25), roundRate(best * 0.5), roundRate(best * 0.9)}
		b.res.Settings.Rates = rates
	}
	for _, r := range rates {
		for _, t := range targets {
			i++
			cnt := &counters{}
			b.step(phaseLen, cnt, "load %d/%d: %s noop, %s runs/s offered, open loop", i, total, t.name, fmtRate(r))
			err := phase(t, cnt, func() (phaseOut, error) {
				return openLoop(ctx, t, actionRequests["noop"], r, b.opts.warmup, b.opts.duration, b.opts.maxInflight, cnt)
			}, "noop", "open", 0, r)
			if err != nil {
				return err
			}
		}
	}
	snapshot()
	b.step(0, nil, "stopping the load servers")
	done := make(chan struct{})
	go func() { th.stop(); close(done) }()
	fl.stop()
	fd.stop()
	<-done
	return nil
}

// roundRate keeps two significant figures.
func roundRate(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Round(v/p) * p
}

func loadResult(target, action, mode string, c int, rate float64, out phaseOut) LoadResult {
	return LoadResult{
		Target: target, Action: action, Mode: mode, Concurrency: c, Rate: rate,
		Latency: summarize(out.lat), RunsPerSec: float64(out.completed) / out.window.Seconds(),
		Errors: out.errors, FirstError: out.firstErr, NotDone: out.notDone,
	}
}

// listPages fills history with real noop runs through HTTP, times list
// pages at that size and at a million runs, and records the file sizes.
func (b *bench) listPages(ctx context.Context) error {
	dir := filepath.Join(b.work, "data-list")
	b.step(0, nil, "starting toolhost for the list pages")
	th, err := b.startToolhost(ctx, "list", 2, dir)
	if err != nil {
		return err
	}
	defer th.stop()
	t := newTarget("toolhost", th.base, b.key)
	defer t.close()
	const fillClients = 32
	cnt := &counters{}
	b.step(0, cnt, "filling history: %s noop runs through HTTP, %d clients", withCommas(int64(b.opts.fill)), fillClients)
	took, err := countLoop(ctx, t, actionRequests["noop"], fillClients, b.opts.fill, cnt)
	if err != nil {
		return fmt.Errorf("filling history: %w", err)
	}
	b.res.Fill = &FillResult{Runs: b.opts.fill, Clients: fillClients, Seconds: took.Seconds(), RunsPerSec: float64(b.opts.fill) / took.Seconds()}
	httpLat, err := b.timePages(ctx, t, fmt.Sprintf("%s runs", withCommas(int64(b.opts.fill))))
	if err != nil {
		return err
	}
	t.close()
	th.stop()
	b.step(0, nil, "timing the same pages in-process on the store")
	storeLat, pageLen, st, tmpl, err := storeListTimes(dir, b.opts.listN)
	if err != nil {
		return err
	}
	for _, q := range listQueries() {
		b.res.List = append(b.res.List, ListResult{Runs: st.Runs, Query: q.name, HTTP: httpLat[q.name], Store: storeLat[q.name], PageLen: pageLen[q.name]})
	}
	rec := 0
	if tmpl != nil {
		rec = recordSize(tmpl)
	}
	b.res.Files = append(b.res.Files, fileResult("noop runs made through HTTP", dir, st.Runs, st.FileSize, rec))
	if !b.opts.list1M {
		b.res.Notes = append(b.res.Notes, "the 1M-run list page was skipped (-list1m=false)")
		return nil
	}

	b.step(0, nil, "million-run file: looking for the cache")
	first := true
	dir1M, cached, buildTime, err := ensureHistory1M(ctx, tmpl, func(done int) {
		msg := fmt.Sprintf("building the million-run file once (%s of 1,000,000 runs; cached for later runs in %s)", withCommas(int64(done)), history1MDir())
		if first {
			first = false
			b.step(0, nil, "%s", msg)
			return
		}
		b.prog.Update("%s", msg)
	})
	if err != nil {
		return fmt.Errorf("million-run file: %w", err)
	}
	if cached {
		b.prog.Printf("bench: using the cached million-run file %s", dir1M)
	} else {
		b.prog.Printf("bench: built the million-run file %s in %.0f s (later runs reuse it)", dir1M, buildTime.Seconds())
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.step(0, nil, "timing pages in-process on the million-run store")
	storeLat, pageLen, st, _, err = storeListTimes(dir1M, b.opts.listN)
	if err != nil {
		return err
	}
	b.step(0, nil, "starting toolhost on the million-run file")
	th1, err := b.startToolhost(ctx, "list1m", 2, dir1M)
	if err != nil {
		return err
	}
	defer th1.stop()
	t1 := newTarget("toolhost", th1.base, b.key)
	defer t1.close()
	httpLat, err = b.timePages(ctx, t1, "1,000,000 runs")
	if err != nil {
		return err
	}
	t1.close()
	th1.stop()
	for _, q := range listQueries() {
		b.res.List = append(b.res.List, ListResult{Runs: st.Runs, Query: q.name, HTTP: httpLat[q.name], Store: storeLat[q.name],
			PageLen: pageLen[q.name], CachedFile: cached, BuildS: math.Round(buildTime.Seconds())})
	}
	b.res.Files = append(b.res.Files, fileResult("copies of that record, bulk-loaded 20k per transaction", dir1M, st.Runs, st.FileSize, rec))
	return nil
}

func fileResult(what, dir string, runs int, size int64, rec int) FileResult {
	f := FileResult{What: what, Runs: runs, Bytes: size, RecordBytes: rec}
	n := float64(max(runs, 1))
	f.PerHundredK = float64(size) * 100_000 / n
	if used, err := boltInUse(dir); err == nil {
		f.InUse, f.InUse100K = used, float64(used)*100_000/n
	}
	return f
}

// timePages asks for each list query listN times, one after another.
func (b *bench) timePages(ctx context.Context, t *target, what string) (map[string]Latency, error) {
	out := map[string]Latency{}
	for _, q := range listQueries() {
		cnt := &counters{}
		b.step(0, cnt, "GET %s with %s stored", q.path, what)
		var ds []time.Duration
		for i := 0; i < b.opts.listN+10; i++ {
			t0 := time.Now()
			if err := t.do(ctx, "GET", q.path, nil); err != nil {
				return nil, fmt.Errorf("GET %s: %w", q.path, err)
			}
			if i >= 10 { // the first few warm the caches
				ds = append(ds, time.Since(t0))
			}
			cnt.ok.Add(1)
		}
		out[q.name] = summarize(ds)
	}
	return out, nil
}

// machine describes where the numbers come from.
func machine(repo string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), Date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseFloat(f[0], 64)
					m.MemTotal = fmt.Sprintf("%.0f GiB", kb/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("git", "-C", repo, "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	m.LoadBefore = loadavg()
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

func writeOut(dir, md string, js []byte, res *Results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	return writeChart(filepath.Join(dir, "chart.svg"), res)
}
