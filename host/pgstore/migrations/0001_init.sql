-- The aggregates host/store keeps in bbolt buckets, one table each. Columns
-- hold what is filtered and sorted (ids are ULIDs with a prefix: in the "C"
-- collation they sort by time); record holds the rest, encoded as host/store
-- encodes it (JSON, as bytes).

CREATE TABLE runs (
    id         text COLLATE "C" PRIMARY KEY,
    status     text NOT NULL,
    action_id  text COLLATE "C" NOT NULL DEFAULT '',
    plugin_id  text COLLATE "C" NOT NULL DEFAULT '',
    thread_id  text COLLATE "C" NOT NULL DEFAULT '',
    key_id     text COLLATE "C" NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    record     bytea NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_action ON runs (action_id, id);
CREATE INDEX runs_by_action_status ON runs (action_id, status, id);
CREATE INDEX runs_by_plugin ON runs (plugin_id, id);
CREATE INDEX runs_by_thread ON runs (thread_id, id);
CREATE INDEX runs_by_key ON runs (key_id, id);

CREATE TABLE threads (
    id     text COLLATE "C" PRIMARY KEY,
    key_id text COLLATE "C" NOT NULL DEFAULT '',
    record bytea NOT NULL
);
CREATE INDEX threads_by_key ON threads (key_id, id);

-- A thread's messages go with it.
CREATE TABLE messages (
    thread_id text COLLATE "C" NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    id        text COLLATE "C" NOT NULL,
    record    bytea NOT NULL,
    PRIMARY KEY (thread_id, id)
);

-- API keys: the SHA-256 digest only, never the key.
CREATE TABLE api_keys (
    name   text PRIMARY KEY,
    digest bytea NOT NULL UNIQUE,
    record bytea NOT NULL
);

-- Installed plugins: secret config values are sealed by toolhost before
-- they get here (sealed_config in record).
CREATE TABLE plugins (
    name   text PRIMARY KEY,
    record bytea NOT NULL
);

CREATE TABLE manifests (
    sha256 text PRIMARY KEY,
    raw    bytea NOT NULL
);

-- The key is the caller's identity, a NUL byte and the client's
-- Idempotency-Key: bytes, not text. The primary key makes one claim win.
CREATE TABLE idempotency (
    key        bytea PRIMARY KEY,
    created_at timestamptz NOT NULL,
    record     bytea NOT NULL
);
CREATE INDEX idempotency_by_created ON idempotency (created_at);
