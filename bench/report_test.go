package main

import (
	"strings"
	"testing"
)

// TestMarkdownBudgetAndDurableFloor: the report puts toolhost's sequential
// noop next to DESIGN.md's budget (floor + one bbolt commit) and next to
// the durable floor measured in the same run, with the ratios.
func TestMarkdownBudgetAndDurableFloor(t *testing.T) {
	seq := func(target string, p50 float64) LoadResult {
		return LoadResult{Target: target, Action: "noop", Mode: "closed", Concurrency: 1, Latency: Latency{P50: p50, P99: 2 * p50}}
	}
	r := &Results{
		Settings: Settings{Actions: []string{"noop"}, Concurrency: []int{1}},
		Load:     []LoadResult{seq("floor", 200), seq("toolhost", 500), seq(durableFloor, 400)},
		Fsync:    &FsyncResult{PutRun: Latency{N: 10, P50: 80}, BoltCommit: Latency{N: 10, P50: 300}, Fdatasync: Latency{N: 10, P50: 50}},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| noop | read: floor + 1 commit | 200 µs | 500 µs | 500 µs | ×1.00 |",
		"durable floor 400 µs (p99 800 µs), toolhost 500 µs (p99 1.00 ms), toolhost ÷ durable floor ×1.25",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	r.Load = r.Load[:2] // no durable floor point: no line about it
	if md := r.Markdown(); strings.Contains(md, "durable floor") {
		t.Errorf("durable floor line without its point:\n%s", md)
	}
}

// TestMarkdownMCPDoor: the MCP door's noop points get their own table,
// beside the HTTP run route's, and stay out of the toolhost ÷ floor one.
func TestMarkdownMCPDoor(t *testing.T) {
	point := func(target string, c int, p50, rps float64) LoadResult {
		return LoadResult{Target: target, Action: "noop", Mode: "closed", Concurrency: c, Latency: Latency{P50: p50, P99: 2 * p50, Max: 3 * p50}, RunsPerSec: rps, HostCPU: p50 / 4}
	}
	r := &Results{
		Settings: Settings{Actions: []string{"noop"}, Concurrency: []int{1, 64}},
		Load: []LoadResult{point("floor", 1, 200, 5000), point("toolhost", 1, 500, 2000), point(mcpDoor, 1, 1000, 1000),
			point("floor", 64, 2000, 10000), point("toolhost", 64, 5000, 8000), point(mcpDoor, 64, 10000, 4000),
			point(mcpPostDoor, 64, 7500, 6000)},
	}
	md := r.Markdown()
	for _, want := range []string{
		"| go-sdk client, 2026-07-28 | 1 (sequential) | 1.00 ms | 500 µs | ×2.00 | 2.00 ms | 1.00 ms | 3.00 ms | 1,000 | 2,000 | ×0.50 | 250 µs | 125 µs | 0 |",
		"| go-sdk client, 2026-07-28 | 64 | 10.0 ms | 5.00 ms | ×2.00 | 20.0 ms | 10.0 ms | 30.0 ms | 4,000 | 8,000 | ×0.50 | 2.50 ms | 1.25 ms | 0 |",
		"| one POST, 2025-11-25 | 64 | 7.50 ms | 5.00 ms | ×1.50 | 15.0 ms | 10.0 ms | 22.5 ms | 6,000 | 8,000 | ×0.75 | 1.88 ms | 1.25 ms | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "| noop | 64 |") != 2 { // the latency table and the CPU table, toolhost ÷ floor
		t.Errorf("MCP door's points in the toolhost ÷ floor tables:\n%s", md)
	}
}
