// Package pgstore keeps what host/store keeps — installed plugins and
// their configuration, the manifest cache, API keys, runs and their
// events, threads and messages, idempotency records — in a PostgreSQL
// database, so that several toolhost processes can share it.
//
// It offers the same aggregates with the same method sets as host/store
// (Runs, Threads, Keys, Plugins, Idempotency), so the core's ports and the
// host's maintenance (InterruptRuns, Prune) work with either backend; one
// suite of tests (host/store/storetest) runs against both.
//
// # Connecting and migrating
//
// Open takes a DSN (a postgres:// URL or key=value string) and opens a
// pgx connection pool. It then applies the embedded migrations
// (migrations/NNNN_name.sql) that the database lacks, all in one
// transaction holding a transaction-level advisory lock, so that replicas
// starting together migrate once and the others wait and find the schema
// ready. The table schema_migrations records what was applied; a database
// migrated by a newer toolhost is refused with ErrSchemaVersion. Errors
// name the DSN's host and port, never its password.
//
// # Records
//
// Columns hold what lists filter and sort on (ids are prefixed ULIDs, in
// the "C" collation, so they sort by creation time and serve as page
// cursors); the rest of each record is the same JSON host/store writes,
// kept as bytes. Runs are encoded by host/store's encoder, events
// included, so a run reads back byte for byte the same from either
// backend.
//
// # Durability
//
// PutRun commits before it returns: a create, update or delete run is
// durably running before its plugin is called, and a blocking answer is
// sent once its final record is committed. PostgreSQL's WAL writer
// batches the commits of concurrent connections into one flush (group
// commit, tunable with commit_delay); nothing here turns off
// synchronous_commit or fsync.
//
// # Secrets
//
// Secret plugin config values are sealed with toolhost's secret key
// (AES-256-GCM, host/store's Sealer) before they are sent to the
// database, which never sees them in plaintext: every replica needs the
// same key (TOOLHOST_SECRET_KEY). API keys are stored as SHA-256 digests.
//
// # Replicas
//
// OpenCluster makes the process one replica of the deployment that shares
// the database (cluster*.go, migrations/0100_cluster.sql): a lease renewed
// by a heartbeat, the runs it owns (failed as interrupted by another
// replica once its lease expires), the shared queue of non-blocking runs
// (FOR UPDATE SKIP LOCKED, inputs sealed), LISTEN/NOTIFY signals that carry
// a run's events to replicas following it and requests to the replica
// running it, and turns for work done once per deployment (retention).
// Cluster implements the core's Cluster port.
package pgstore
