package pgstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/domain"
)

// DefaultLease is how long a replica's lease lasts without a heartbeat.
const DefaultLease = 15 * time.Second

// ClusterOptions configure OpenCluster.
type ClusterOptions struct {
	// Lease is how long this replica's lease lasts without a heartbeat
	// (DefaultLease when zero): when a replica dies, its runs are failed
	// as interrupted about this long after. It heartbeats every Lease/3.
	Lease  time.Duration
	Logger hclog.Logger
}

// Cluster is this replica's membership of the deployment that shares the
// database: its lease, the runs it owns, the shared queue of non-blocking
// runs, and the signals replicas send each other (LISTEN/NOTIFY). It
// implements the core's Cluster port.
type Cluster struct {
	db    *DB
	id    string
	lease time.Duration
	log   hclog.Logger

	mu       sync.Mutex
	watchers map[string]map[chan domain.RunNote]bool
	requests chan domain.RunRequest
	wake     chan struct{} // a run was queued: one idle worker looks
	outbox   chan notice   // notifications to send, in order
	disowned chan string   // owner rows to delete
	owns     chan ownReq   // runs to record as owned

	ctx  context.Context // ends at Close
	stop context.CancelFunc
	bg   sync.WaitGroup
	once sync.Once
}

// notice is one NOTIFY to send.
type notice struct{ channel, payload string }

// The NOTIFY channels.
const (
	chanRuns  = "toolhost_runs"  // a run's events and its end
	chanAsks  = "toolhost_asks"  // requests for the replica running a run
	chanQueue = "toolhost_queue" // a run was queued
)

// OpenCluster joins this process to the deployment as a new replica: it
// takes a lease, listens for the other replicas' signals and starts its
// heartbeat. Close leaves the deployment.
func OpenCluster(ctx context.Context, db *DB, opts ClusterOptions) (*Cluster, error) {
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Lease < 300*time.Millisecond {
		return nil, invalidf("store lease must be at least 300ms, got %s", opts.Lease)
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	c := &Cluster{db: db, id: domain.NewID("rep"), lease: opts.Lease, log: opts.Logger.Named("cluster"),
		watchers: map[string]map[chan domain.RunNote]bool{}, requests: make(chan domain.RunRequest, 1024),
		wake: make(chan struct{}, 1), outbox: make(chan notice, 8192), disowned: make(chan string, 8192),
		owns: make(chan ownReq, ownBatch)}
	if err := c.renew(ctx, false); err != nil {
		return nil, err
	}
	l, err := c.listen(ctx)
	if err != nil {
		return nil, err
	}
	bctx, stop := context.WithCancel(context.Background())
	c.ctx, c.stop = bctx, stop
	c.goBg(func() { l.serve(bctx) })
	c.goBg(func() { c.heartbeat(bctx) })
	c.goBg(c.sendNotices)
	c.goBg(c.deleteDisowned)
	c.goBg(c.recordOwners)
	return c, nil
}

func (c *Cluster) goBg(fn func()) {
	c.bg.Add(1)
	go func() { defer c.bg.Done(); fn() }()
}

// ID is this replica's id (rep_<ULID>), new at each start.
func (c *Cluster) ID() string { return c.id }

// Lease is how long this replica's lease lasts without a heartbeat.
func (c *Cluster) Lease() time.Duration { return c.lease }

// Close leaves the deployment: it sends what is left to send, and gives
// up the lease, so the others need not wait for it to expire (runs this
// replica still owned are then failed as interrupted by them). Stop the
// Runner first.
func (c *Cluster) Close() error {
	var err error
	c.once.Do(func() {
		close(c.outbox)
		close(c.disowned)
		c.stop()
		c.bg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, e := c.db.pool.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, c.id); e != nil {
			err = c.db.fail("giving up the replica's lease", e)
		}
	})
	return err
}

// ms is d in milliseconds, for SQL intervals.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// errorf wraps a database error with what was being done.
func (c *Cluster) errorf(err error, format string, a ...any) error {
	return c.db.fail(fmt.Sprintf(format, a...), err)
}
