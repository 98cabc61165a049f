package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// actionID is toolhost's id for plugin:action (see API.md, "ids").
func actionID(plugin, action string) string {
	sum := sha256.Sum256([]byte(plugin + ":" + action))
	return "CA" + strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}

func pluginID(plugin string) string {
	sum := sha256.Sum256([]byte(plugin))
	return "CP" + strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}

// listQuery is one page the harness asks for, over HTTP and in-process.
type listQuery struct {
	name   string // as shown in the table
	path   string
	filter domain.RunFilter
}

func listQueries() []listQuery {
	return []listQuery{
		{"action_id=testkit.noop&status=succeeded", "/v1/runs?limit=20&action_id=testkit.noop&status=succeeded",
			domain.RunFilter{ActionID: actionID("testkit", "noop"), Status: domain.StatusSucceeded}},
		{"no filter", "/v1/runs?limit=20", domain.RunFilter{}},
	}
}

// storeListTimes opens the store (the server must be stopped) and times n
// ListRuns calls for each query; it also returns the run count and file
// size, and one run as a template.
func storeListTimes(dir string, n int) (lat map[string]Latency, pageLen map[string]int, st store.Stats, tmpl *domain.Run, err error) {
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, nil, st, nil, err
	}
	defer db.Close()
	if st, err = db.Stats(); err != nil {
		return nil, nil, st, nil, err
	}
	lat, pageLen = map[string]Latency{}, map[string]int{}
	for _, q := range listQueries() {
		var ds []time.Duration
		for range n {
			t0 := time.Now()
			runs, _, err := db.Runs().ListRuns(context.Background(), q.filter, domain.Page{Limit: 20})
			ds = append(ds, time.Since(t0))
			if err != nil {
				return nil, nil, st, nil, err
			}
			pageLen[q.name] = len(runs)
			if tmpl == nil && len(runs) > 0 {
				tmpl = runs[0]
			}
		}
		lat[q.name] = summarize(ds)
	}
	return lat, pageLen, st, tmpl, nil
}

// The million-run file is cached between runs under os.TempDir(), keyed by
// this version and the store's schema version. Bump it when the data
// changes.
const history1MVersion = "1"

const (
	history1MRuns    = 1_000_000
	history1MActions = 200
	history1MPlugins = 20
	history1MChunk   = 20_000
)

func history1MDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("toolhost-bench-1m-v%s-schema%d", history1MVersion, store.SchemaVersion))
}

// ensureHistory1M returns the cached directory, building it first when it
// is missing (about 20-40 s on two cores). tmpl is a real run record from
// toolhost (a noop run); the million are copies of it with ids, times,
// actions and statuses varied. cached reports whether the file was reused.
func ensureHistory1M(ctx context.Context, tmpl *domain.Run, progress func(done int)) (dir string, cached bool, built time.Duration, err error) {
	dir = history1MDir()
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir, true, 0, nil
	}
	if tmpl == nil {
		return "", false, 0, errors.New("no template run to build the million-run file from")
	}
	start := time.Now()
	tmp := fmt.Sprintf("%s.building-%d", dir, os.Getpid())
	_ = os.RemoveAll(tmp)
	db, err := store.Open(tmp, store.Options{})
	if err != nil {
		return "", false, 0, err
	}
	if err := fill1M(ctx, db, tmpl, progress); err != nil {
		db.Close()
		os.RemoveAll(tmp)
		return "", false, 0, err
	}
	if err := db.Close(); err != nil {
		os.RemoveAll(tmp)
		return "", false, 0, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o600); err != nil {
		return "", false, 0, err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", false, 0, err
	}
	return dir, false, time.Since(start), nil
}

// fill1M writes the runs in chunks of history1MChunk per transaction: one
// run every 2.5 s over about a month, 200 actions over 20 plugins (the
// first action is testkit.noop, so the HTTP filter by alias finds it), 86%
// succeeded, 9% failed, 3% cancelled, 2% timed out. No run is left queued
// or running, so a server started on the file has nothing to recover and
// the cached file stays as built.
func fill1M(ctx context.Context, db *store.DB, tmpl *domain.Run, progress func(int)) error {
	rng := mrand.New(mrand.NewPCG(7, 7))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	noopID := actionID("testkit", "noop")
	for i := 0; i < history1MRuns; i += history1MChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		runs := make([]*domain.Run, 0, history1MChunk)
		for j := i; j < min(i+history1MChunk, history1MRuns); j++ {
			at := start.Add(time.Duration(j) * 2500 * time.Millisecond)
			a := rng.IntN(history1MActions)
			r := *tmpl
			r.ID = domain.RunPrefix + ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
			if a == 0 {
				r.ActionID, r.ActionKey = noopID, "testkit.noop"
				r.PluginID, r.PluginName = pluginID("testkit"), "testkit"
			} else {
				p := fmt.Sprintf("plugin%02d", a%history1MPlugins)
				r.ActionID, r.ActionKey = actionID(p, fmt.Sprint("action", a)), fmt.Sprintf("%s.action%d", p, a)
				r.PluginID, r.PluginName = pluginID(p), p
			}
			r.Status, r.Error = status1M(rng.IntN(100))
			fin := at.Add(time.Millisecond)
			r.CreatedAt, r.StartedAt, r.FinishedAt = at, &at, &fin
			r.Events = make([]domain.Event, len(tmpl.Events))
			for k, e := range tmpl.Events {
				e.At = at
				r.Events[k] = e
			}
			if n := len(r.Events); n > 0 && r.Status != domain.StatusSucceeded {
				r.Events[n-1].Type = "run." + r.Status
			}
			runs = append(runs, &r)
		}
		if err := db.Runs().PutRuns(context.Background(), runs); err != nil {
			return err
		}
		progress(i + len(runs))
	}
	return nil
}

func status1M(p int) (string, *domain.RunError) {
	switch {
	case p < 86:
		return domain.StatusSucceeded, nil
	case p < 95:
		return domain.StatusFailed, &domain.RunError{Code: "action_failed", Message: "[Action execution error] the thing failed"}
	case p < 98:
		return domain.StatusCancelled, &domain.RunError{Code: "cancelled", Message: "run cancelled"}
	}
	return domain.StatusTimedOut, &domain.RunError{Code: "action_timeout", Message: "action timed out after 1m0s"}
}

// boltInUse opens the file read-only and returns the bytes its pages hold:
// the high-water mark less the free pages. bbolt grows the file in steps
// (doubling up to 16 MiB, then 16 MiB at a time), so for a small store this
// says more than the file size does.
func boltInUse(dir string) (int64, error) {
	db, err := bbolt.Open(filepath.Join(dir, store.FileName), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var size int64
	if err := db.View(func(tx *bbolt.Tx) error { size = tx.Size(); return nil }); err != nil {
		return 0, err
	}
	st := db.Stats()
	return size - int64(st.FreePageN+st.PendingPageN)*int64(db.Info().PageSize), nil
}

// recordSize is the JSON size of a run as stored.
func recordSize(r *domain.Run) int {
	b, _ := json.Marshal(r)
	return len(b)
}
