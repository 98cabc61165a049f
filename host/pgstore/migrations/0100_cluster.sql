-- Several toolhost replicas on one database (cluster*.go). Times are the
-- database's clock (now()), so replicas' clocks need not agree.

-- A live replica holds a lease, renewed by its heartbeat; one whose lease
-- expired is deleted by another, which then fails its runs.
CREATE TABLE replicas (
    id         text COLLATE "C" PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

-- The runs a replica runs that have an unfinished record. A row whose
-- replica is gone marks a run to fail as interrupted (never to re-run).
CREATE TABLE run_owners (
    run_id     text COLLATE "C" PRIMARY KEY,
    replica_id text COLLATE "C" NOT NULL
);
CREATE INDEX run_owners_by_replica ON run_owners (replica_id);

-- Non-blocking runs waiting for any replica's worker, oldest first. The
-- input is sealed with toolhost's secret key (AES-256-GCM, bound to the
-- run id): the database never sees the secrets in it. A row is deleted
-- when it is claimed (FOR UPDATE SKIP LOCKED) or cancelled.
CREATE TABLE run_queue (
    seq       bigserial PRIMARY KEY,
    run_id    text COLLATE "C" NOT NULL UNIQUE,
    input     bytea NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now()
);

-- Work done once per deployment per period (retention): the replica
-- whose update moves last_at takes the turn.
CREATE TABLE turns (
    task    text PRIMARY KEY,
    last_at timestamptz NOT NULL
);
