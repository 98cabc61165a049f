package app

import (
	"context"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/pgstore"
)

// A host on a PostgreSQL store is one replica of a deployment: it joins
// the others through the database (pgstore.Cluster), its non-blocking
// runs go to the shared queue, runs are followed and cancelled across
// replicas, it fails the runs of replicas whose lease expired, and
// retention runs once per deployment. On bbolt none of this exists.

// joinCluster joins the deployment when the store is PostgreSQL.
func (a *App) joinCluster(ctx context.Context) error {
	pg := backend.PostgresDB(a.Store)
	if pg == nil {
		return nil
	}
	c, err := pgstore.OpenCluster(ctx, pg, pgstore.ClusterOptions{Lease: a.Config.Store.Lease, Logger: a.Log})
	if err != nil {
		return err
	}
	a.cluster = c
	a.Log.Info("joined the deployment on the database", "replica", c.ID(), "lease", c.Lease(), "database", pg.Where())
	return nil
}

// coreCluster is the cluster as the core's port: nil (not a typed nil)
// without one.
func (a *App) coreCluster() core.Cluster {
	if a.cluster == nil {
		return nil
	}
	return a.cluster
}

// startReaper fails, from now on, the runs of replicas that died (their
// lease expired), this one's earlier life's included.
func (a *App) startReaper() {
	if a.cluster != nil {
		a.cluster.Reap(a.Runner.InterruptRun)
	}
}

// retentionTurn reports whether this host prunes now: a host alone always
// does; of several replicas, one per interval does.
func (a *App) retentionTurn(ctx context.Context, interval time.Duration) bool {
	if a.cluster == nil {
		return true
	}
	ok, err := a.cluster.TakeTurn(ctx, "retention", interval*9/10)
	if err != nil {
		a.Log.Warn("could not take the retention turn", "error", err)
	}
	return ok
}

// leaveCluster gives up this replica's lease (once its runs have ended).
func (a *App) leaveCluster() {
	if a.cluster == nil {
		return
	}
	if err := a.cluster.Close(); err != nil {
		a.Log.Warn("could not leave the deployment cleanly; the others fail this replica's runs once its lease expires", "error", err)
	}
}
