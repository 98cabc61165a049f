package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/internal/pgtest"
)

var _ core.Cluster = (*pgstore.Cluster)(nil)

// replicas opens n replicas on one fresh database, each with its own pool
// (as separate processes would have), closed with the test.
func replicas(t *testing.T, n int, lease time.Duration) ([]*pgstore.Cluster, *pgstore.DB) {
	t.Helper()
	dsn := pgtest.DSN(t)
	var out []*pgstore.Cluster
	var first *pgstore.DB
	for i := 0; i < n; i++ {
		db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: testKey})
		if err != nil {
			t.Fatal(err)
		}
		c, err := pgstore.OpenCluster(context.Background(), db, pgstore.ClusterOptions{Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); db.Close() })
		out = append(out, c)
		if first == nil {
			first = db
		}
	}
	return out, first
}

// TestClusterQueueClaimsEachRunOnce queues runs from one replica and
// claims them from two with several workers each: every run is claimed
// exactly once with its input, which the database holds only sealed.
func TestClusterQueueClaimsEachRunOnce(t *testing.T) {
	cs, db := replicas(t, 2, time.Second)
	ctx := context.Background()
	const n = 60
	want := map[string]string{}
	for i := 0; i < n; i++ {
		id := domain.NewID(domain.RunPrefix)
		in := fmt.Sprintf(`{"password":"secret-%d"}`, i)
		want[id] = in
		if err := cs[i%2].Enqueue(ctx, id, []byte(in), 1000); err != nil {
			t.Fatal(err)
		}
	}
	var stored []byte
	if err := db.Pool().QueryRow(ctx, `SELECT string_agg(input, '\x00'::bytea) FROM run_queue`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte("secret-")) {
		t.Fatal("the queue holds a run input in the clear")
	}

	var mu sync.Mutex
	got := map[string][]string{}
	var wg sync.WaitGroup
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				done, claimed := len(got) == n, len(got)
				mu.Unlock()
				if done {
					return
				}
				if cctx.Err() != nil {
					t.Errorf("%d of %d queued runs claimed in 10s", claimed, n)
					return
				}
				wctx, wcancel := context.WithTimeout(cctx, 200*time.Millisecond)
				id, in, err := cs[w%2].Claim(wctx)
				wcancel()
				if errors.Is(err, context.DeadlineExceeded) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[id] = append(got[id], string(in))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for id, in := range want {
		if len(got[id]) != 1 || got[id][0] != in {
			t.Fatalf("run %s claimed as %q, want once as %q", id, got[id], in)
		}
	}
	var owned int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM run_owners`).Scan(&owned); err != nil || owned != n {
		t.Fatalf("%d owned runs after the claims (%v), want %d", owned, err, n)
	}
}

// TestClusterQueueFullAndUnqueue refuses a run past the limit, takes a
// queued run out (it is then never claimed) and cannot take out a claimed
// one.
func TestClusterQueueFullAndUnqueue(t *testing.T) {
	cs, _ := replicas(t, 2, time.Second)
	a, b := cs[0], cs[1]
	ctx := context.Background()
	first, second := domain.NewID(domain.RunPrefix), domain.NewID(domain.RunPrefix)
	if err := a.Enqueue(ctx, first, []byte(`{}`), 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Enqueue(ctx, second, []byte(`{}`), 1); !errors.Is(err, core.ErrQueueFull) {
		t.Fatalf("Enqueue past the limit = %v, want ErrQueueFull", err)
	}
	if took, err := b.Unqueue(ctx, first); err != nil || !took {
		t.Fatalf("Unqueue of a queued run = %v, %v", took, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if id, _, err := a.Claim(cctx); err == nil {
		t.Fatalf("claimed %s, which was taken out of the queue", id)
	}
	if err := a.Enqueue(ctx, second, []byte(`{}`), 1); err != nil {
		t.Fatal(err)
	}
	if id, _, err := a.Claim(ctx); err != nil || id != second {
		t.Fatalf("Claim = %s, %v", id, err)
	}
	if took, err := b.Unqueue(ctx, second); err != nil || took {
		t.Fatalf("Unqueue of a claimed run = %v, %v", took, err)
	}
}

// TestClusterSignals carries a run's events and end from the replica
// running it to one watching it, and requests the other way.
func TestClusterSignals(t *testing.T) {
	cs, _ := replicas(t, 2, time.Second)
	a, b := cs[0], cs[1]
	id := domain.NewID(domain.RunPrefix)
	notes, stop := b.Watch(id)
	defer stop()
	big := domain.Event{Seq: 2, Type: "run.log", Data: []byte(`"` + strings.Repeat("x", 9000) + `"`)}
	a.Publish(id, domain.Event{Seq: 1, Type: "run.created", Data: []byte(`{}`)})
	a.Publish(id, big) // too large for a notification: left out
	a.Publish(id, domain.Event{Seq: 3, Type: "run.running"})
	a.Publish("run_other", domain.Event{Seq: 1, Type: "run.created"})
	a.Ended(id)
	var heard []string
	for len(heard) < 3 {
		select {
		case n := <-notes:
			if n.Ended {
				heard = append(heard, "end")
			} else {
				heard = append(heard, fmt.Sprintf("%d %s", n.Event.Seq, n.Event.Type))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("heard only %v", heard)
		}
	}
	if want := []string{"1 run.created", "3 run.running", "end"}; !slices.Equal(heard, want) {
		t.Fatalf("heard %v, want %v", heard, want)
	}

	if err := b.Ask(context.Background(), domain.RunRequest{Kind: domain.AskCancel, RunID: id}); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-a.Requests():
		if req.Kind != domain.AskCancel || req.RunID != id {
			t.Fatalf("request = %+v", req)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a did not hear b's request")
	}
}

// TestClusterReapsADeadReplica fails the runs a replica owned once its
// lease expired, not before, and never a run it queued or one a live
// replica owns.
func TestClusterReapsADeadReplica(t *testing.T) {
	cs, _ := replicas(t, 2, 600*time.Millisecond)
	dead, live := cs[0], cs[1]
	ctx := context.Background()
	owned, queued, mine := domain.NewID(domain.RunPrefix), domain.NewID(domain.RunPrefix), domain.NewID(domain.RunPrefix)
	for _, step := range []error{
		dead.Own(ctx, owned), dead.Own(ctx, queued), dead.Enqueue(ctx, queued, []byte(`{}`), 10), live.Own(ctx, mine),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	var interrupted []string
	interrupt := func(_ context.Context, id string) error { interrupted = append(interrupted, id); return nil }
	dead.Halt()
	if n, err := live.ReapOnce(ctx, interrupt); err != nil || n != 0 {
		t.Fatalf("reaped %d (%v) before the lease expired", n, err)
	}
	time.Sleep(800 * time.Millisecond)
	if n, err := live.ReapOnce(ctx, interrupt); err != nil || n != 1 || !slices.Equal(interrupted, []string{owned}) {
		t.Fatalf("reaped %d %v (%v), want [%s]", n, interrupted, err, owned)
	}
	if n, err := live.ReapOnce(ctx, interrupt); err != nil || n != 0 {
		t.Fatalf("reaped %d (%v) again", n, err)
	}
	if id, _, err := live.Claim(ctx); err != nil || id != queued {
		t.Fatalf("the dead replica's queued run: Claim = %s, %v", id, err)
	}
}

// TestClusterReapFailureKeepsTheRun leaves a run whose interrupt failed
// for the next reaping.
func TestClusterReapFailureKeepsTheRun(t *testing.T) {
	cs, _ := replicas(t, 2, 300*time.Millisecond)
	id := domain.NewID(domain.RunPrefix)
	if err := cs[0].Own(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	cs[0].Halt()
	time.Sleep(400 * time.Millisecond)
	boom := errors.New("database went away")
	if _, err := cs[1].ReapOnce(context.Background(), func(context.Context, string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("ReapOnce = %v, want the interrupt's error", err)
	}
	n, err := cs[1].ReapOnce(context.Background(), func(context.Context, string) error { return nil })
	if err != nil || n != 1 {
		t.Fatalf("second ReapOnce = %d, %v", n, err)
	}
}

// TestClusterTakeTurn gives one replica per period the turn.
func TestClusterTakeTurn(t *testing.T) {
	cs, _ := replicas(t, 3, time.Second)
	ctx := context.Background()
	turns := 0
	for _, c := range cs {
		ok, err := c.TakeTurn(ctx, "retention", 300*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			turns++
		}
	}
	if turns != 1 {
		t.Fatalf("%d replicas took the turn, want 1", turns)
	}
	time.Sleep(350 * time.Millisecond)
	if ok, err := cs[2].TakeTurn(ctx, "retention", 300*time.Millisecond); err != nil || !ok {
		t.Fatalf("after the period: %v, %v", ok, err)
	}
}

// TestClusterBadInput refuses a lease too short to renew, and a queued
// input sealed with another key names the run.
func TestClusterBadInput(t *testing.T) {
	dsn := pgtest.DSN(t)
	db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := pgstore.OpenCluster(context.Background(), db, pgstore.ClusterOptions{Lease: 10 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("a 10ms lease: %v", err)
	}
	other, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: []byte("another key, 32 bytes long, ok!!")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	a, err := pgstore.OpenCluster(context.Background(), db, pgstore.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.OpenCluster(context.Background(), other, pgstore.ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id := domain.NewID(domain.RunPrefix)
	if err := a.Enqueue(context.Background(), id, []byte(`{"s":1}`), 10); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Claim(context.Background()); !errors.Is(err, pgstore.ErrSecretKey) || !strings.Contains(err.Error(), id) {
		t.Fatalf("Claim with another key = %v", err)
	}
}

// TestClusterOwnConcurrently records many runs as owned at once (they
// share statements): each is recorded once, by this replica, and the
// same run owned twice is no error; after Close, Own refuses.
func TestClusterOwnConcurrently(t *testing.T) {
	cs, db := replicas(t, 1, time.Second)
	ctx := context.Background()
	ids := make([]string, 300)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids)+1)
	for i := range ids {
		ids[i] = domain.NewID(domain.RunPrefix)
		wg.Add(1)
		go func() { defer wg.Done(); errs <- cs[0].Own(ctx, ids[i]) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); errs <- cs[0].Own(ctx, ids[0]) }()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM run_owners WHERE replica_id = $1 AND run_id = ANY($2)`, cs[0].ID(), ids).Scan(&n); err != nil || n != len(ids) {
		t.Fatalf("%d owned runs (%v), want %d", n, err, len(ids))
	}
	cs[0].Close()
	if err := cs[0].Own(ctx, domain.NewID(domain.RunPrefix)); err == nil || !strings.Contains(err.Error(), "left the deployment") {
		t.Fatalf("Own after Close = %v", err)
	}
}

// TestClusterClaimSurvivesTheCallersDeadline claims with deadlines so short
// that many end while the claim statement is in flight: a run the database
// handed over is returned all the same, so none is left taken by nobody.
func TestClusterClaimSurvivesTheCallersDeadline(t *testing.T) {
	cs, db := replicas(t, 1, time.Second)
	ctx := context.Background()
	const n = 40
	for i := 0; i < n; i++ {
		if err := cs[0].Enqueue(ctx, domain.NewID(domain.RunPrefix), []byte(`{}`), 1000); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for try := 0; len(got) < n && try < 20*n; try++ {
		wctx, cancel := context.WithTimeout(ctx, time.Duration(try%7)*150*time.Microsecond)
		id, _, err := cs[0].Claim(wctx)
		cancel()
		if err == nil {
			got[id] = true
		}
	}
	var queued, owned int
	if err := db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM run_queue), (SELECT count(*) FROM run_owners)`).Scan(&queued, &owned); err != nil {
		t.Fatal(err)
	}
	if len(got) != owned || queued+owned != n {
		t.Fatalf("claims returned %d runs; the database has %d owned and %d queued of %d", len(got), owned, queued, n)
	}
}
