package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/toolhost/toolhost/internal/pgtest"
)

// The Postgres column: toolhost on a PostgreSQL store (a throwaway cluster
// the bench starts, internal/pgtest), first one replica, then two on the
// same database behind a round-robin client (as a load balancer would
// spread requests), at 1 and 64 clients, for the same actions as the
// bbolt points of the same run.

// Targets of the Postgres points.
const (
	pgOne = "postgres-1" // one replica
	pgTwo = "postgres-2" // two replicas, requests alternating between them
)

// pgClients are the closed-loop client counts of the Postgres points.
var pgClients = []int{1, 64}

// postgresPhases measures the Postgres points, or notes why it could not.
func (b *bench) postgresPhases(ctx context.Context) error {
	b.step(0, nil, "starting a throwaway PostgreSQL cluster")
	pg, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNoBinaries) {
		b.res.Notes = append(b.res.Notes, "no Postgres column: "+err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	defer pg.Close()
	dsn, err := pg.NewDatabase(ctx)
	if err != nil {
		return err
	}
	var (
		replicas []*server
		caps     []*cpuCap
	)
	defer func() {
		for _, s := range replicas {
			s.stop()
		}
		for _, c := range caps {
			c.remove()
		}
	}()
	for i := 1; i <= 2; i++ {
		s, err := b.startReplica(ctx, i, dsn)
		if err != nil {
			return err
		}
		replicas = append(replicas, s)
		if b.opts.replicaCPU > 0 {
			c, err := newCPUCap(fmt.Sprintf("toolhost-bench-%d-replica-%d", os.Getpid(), i), b.opts.replicaCPU)
			if err != nil {
				return err
			}
			caps = append(caps, c)
			if err := c.hold(s.pid); err != nil {
				return err
			}
		}
	}
	one, two := newTarget(pgOne, replicas[0].base, b.key), newTarget(pgTwo, replicas[0].base, b.key)
	defer one.close()
	defer two.close()
	two.spread([]string{replicas[0].base, replicas[1].base})
	if err := b.pgPoints(ctx, one, two, replicas); err != nil {
		return err
	}
	b.res.Notes = append(b.res.Notes, fmt.Sprintf("Postgres column: PostgreSQL %s on this machine (fsync on, synchronous_commit on), "+
		"two toolhost serve replicas with the testkit plugin; %s loads the first alone, %s spreads requests over both in turn; "+
		"each point measured %d times, one replica and two alternating, the median round kept", pgVersion(), pgOne, pgTwo, pgRounds))
	if b.opts.replicaCPU > 0 {
		b.res.Notes = append(b.res.Notes, fmt.Sprintf("Postgres column: each replica, with its plugin processes, capped at %g CPU (a cgroup CPU quota), "+
			"as if it had a machine of its own; PostgreSQL and the load generator run uncapped on the rest", b.opts.replicaCPU))
	}
	return nil
}

// pgRounds is how many times each Postgres point is measured, one
// replica and two in turn, so that both see the same noise; the median
// round (by runs/s) is kept.
const pgRounds = 3

// pgPoints loads one replica and two replicas in turn at each action and
// client count.
func (b *bench) pgPoints(ctx context.Context, one, two *target, servers []*server) error {
	for _, a := range b.opts.actions {
		rq := actionRequests[a]
		for _, t := range []*target{one, two} {
			if err := t.send(ctx, rq); err != nil {
				return fmt.Errorf("%s: first %s run: %w", t.name, a, err)
			}
		}
		for _, c := range pgClients {
			rounds := map[*target][]LoadResult{}
			for i := 0; i < pgRounds; i++ {
				for _, t := range []*target{one, two} {
					lr, err := b.pgPoint(ctx, t, servers, rq, a, c, i)
					if err != nil {
						return err
					}
					rounds[t] = append(rounds[t], lr)
				}
			}
			for _, t := range []*target{one, two} {
				b.res.addLoad(medianRound(rounds[t]))
			}
		}
	}
	return nil
}

// pgPoint measures one closed-loop point of t.
func (b *bench) pgPoint(ctx context.Context, t *target, servers []*server, rq request, a string, c, round int) (LoadResult, error) {
	cnt := &counters{}
	b.step(b.opts.warmup+b.opts.duration, cnt, "load: %s %s, %d client(s), closed loop, round %d/%d", t.name, a, c, round+1, pgRounds)
	h0, p0 := cpuOf(servers)
	out, err := closedLoop(ctx, t, rq, c, b.opts.warmup, b.opts.duration, cnt)
	if err != nil {
		return LoadResult{}, err
	}
	h1, p1 := cpuOf(servers)
	lr := loadResult(t.name, a, "closed", c, 0, out)
	if n := cnt.ok.Load() + cnt.errs.Load(); n > 0 {
		lr.HostCPU, lr.PluginCPU = us(h1-h0)/float64(n), us(p1-p0)/float64(n)
	}
	return lr, nil
}

// medianRound is the round with the median runs/s.
func medianRound(rs []LoadResult) LoadResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(x, y LoadResult) int { return cmp.Compare(x.RunsPerSec, y.RunsPerSec) })
	return s[len(s)/2]
}

// startReplica starts toolhost serve number i on the database.
func (b *bench) startReplica(ctx context.Context, i int, dsn string) (*server, error) {
	cfg, err := b.toolhostConfig(fmt.Sprintf("plugins-pg-%d", i), 1)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintf(f, "store {\n  backend = \"postgres\"\n  dsn = env(\"TOOLHOST_DATABASE_URL\")\n}\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return startServer(ctx, serverSpec{
		kind: "toolhost", bin: b.bins.toolhost,
		args: []string{"serve", "--config", cfg, "--data-dir", filepath.Join(b.work, fmt.Sprintf("data-pg-%d", i)), "--listen", "127.0.0.1:0"},
		env: []string{"TOOLHOST_API_KEY=" + b.key, "TOOLHOST_DATABASE_URL=" + dsn,
			"TOOLHOST_SECRET_KEY=" + strings.Repeat("b3", 32)},
		log: filepath.Join(b.work, fmt.Sprintf("toolhost-pg-%d.log", i)),
	})
}

// cpuOf sums the servers' and their plugins' CPU time.
func cpuOf(servers []*server) (host, plugins time.Duration) {
	for _, s := range servers {
		h, p := s.cpuUsed()
		host, plugins = host+h, plugins+p
	}
	return host, plugins
}

// pgVersion is the PostgreSQL version the bench started.
func pgVersion() string {
	dir, err := pgtest.BinDir()
	if err != nil {
		return "?"
	}
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "postgres (PostgreSQL) ")
}

// postgresTable sets toolhost on PostgreSQL, one replica and two, beside
// toolhost on bbolt, from the same run.
func (r *Results) postgresTable(p func(string, ...any)) {
	var rows []string
	for _, a := range r.Settings.Actions {
		for _, c := range pgClients {
			one, two := r.findLoad(pgOne, a, "closed", c, 0), r.findLoad(pgTwo, a, "closed", c, 0)
			if one == nil {
				continue
			}
			bb, t2 := orZero(r.findLoad("toolhost", a, "closed", c, 0)), orZero(two)
			rows = append(rows, fmt.Sprintf("| %s | %s | %s / %s / %s | %s / %s / %s | %s / %s / %s | %s | %s |\n", a, clients(c),
				fmtRate(bb.RunsPerSec), fmtDur(bb.Latency.P50), fmtDur(bb.Latency.P99),
				fmtRate(one.RunsPerSec), fmtDur(one.Latency.P50), fmtDur(one.Latency.P99),
				fmtRate(t2.RunsPerSec), fmtDur(t2.Latency.P50), fmtDur(t2.Latency.P99),
				ratio(t2.RunsPerSec, one.RunsPerSec), errCell(one, two)))
		}
	}
	if len(rows) == 0 {
		return
	}
	p("\n### Postgres column: one and two replicas on one PostgreSQL database, beside bbolt\n\n")
	p("Each cell is runs/s / p50 / p99, closed loop, blocking runs over HTTP, same run as the tables above. Two replicas share the clients in turn; \"2 ÷ 1\" is two replicas' runs/s over one's. All on one machine: the load generator, PostgreSQL and the replicas share its CPUs.\n\n")
	p("| action | clients | bbolt | Postgres, 1 replica | Postgres, 2 replicas | 2 ÷ 1 | errors |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rows {
		p("%s", row)
	}
}
