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
