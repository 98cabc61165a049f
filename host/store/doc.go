// Package store keeps everything toolhost remembers in one bbolt file:
// installed plugins and their configuration, the manifest cache, API keys,
// run history, threads and messages, and idempotency records.
//
// # The file
//
// Open takes a data directory, creates it (0700) and the file toolhost.db in
// it. bbolt holds an exclusive flock on the file while a DB is open, so a
// second toolhost on the same directory fails within Options.Timeout with an
// error wrapping ErrInUse that names the pid of the one holding it (read
// from toolhost.pid, written once the lock is held).
//
// Every entity has its own bucket, keyed so that keys sort the way lists are
// read: runs, threads and messages by ULID ids (time order), messages under
// their thread id so a thread's messages are one range scan. Values are JSON.
// There is no per-record version: the meta bucket holds one schema_version
// for the whole file. A future version migrates every record at Open and
// bumps schema_version in the same transaction as its last step, so a file
// never mixes record versions; a file written by a newer toolhost than this
// one is refused with ErrSchemaVersion instead of being misread.
//
// # Runs and the latency budget
//
// Run records are on the hot path of every action call, so they do not go
// straight into bbolt, whose commit costs several page writes and two
// fdatasyncs. PutRun appends the record to a journal file next to the
// bbolt file (toolhost.journal) and returns once it is durable there: one
// write and one fdatasync, shared by every caller that arrived during the
// previous one (group commit without a committer goroutine: the first
// caller to find the file free writes for everyone waiting). A background
// applier copies journaled records into bbolt many per transaction, 50 ms
// after they arrive or sooner when 512 are waiting, and records in the same
// transaction how far it got. Until then GetRun reads the record from
// memory, and reads that scan the file (ListRuns, Stats, Check, Prune,
// InterruptRuns) first apply what is waiting. Once the applier has caught
// up, the next write starts again at the beginning of the file, copying the
// few records that arrived during the applier's transaction in front of its
// own, so the file stays small and is overwritten in place (an fdatasync
// that need not change the file's size costs about half). Open replays what a crash left: records are framed with a
// length, a CRC-32C and a sequence number, and the replay takes the chain
// from the start of the file up to the first torn or out-of-sequence
// record, skipping those already applied. So a run is as durable when
// PutRun returns as it was with a bbolt commit, for a fifth of the cost.
//
// Other writes on the hot path (idempotency records, messages, API key
// last-use stamps) go through a group committer in front of bbolt:
// concurrent callers share one transaction, hence one commit, like bbolt's
// DB.Batch. Unlike DB.Batch it does not wait MaxBatchDelay (10 ms by
// default) for company: a caller that finds the writer idle commits at
// once, and everyone who arrives during a commit goes into the next one.
// Commits are always fsynced: NoSync is never set.
//
// PutRun is also the one place that enforces the run state machine:
//
//	queued          → running | cancelled | failed
//	running         → succeeded | failed | cancelled | timed_out | requires_action
//	requires_action → running | cancelled | expired | failed
//
// A status may be rewritten with itself (to record new events); a terminal
// run (succeeded, failed, cancelled, timed_out, expired) never changes again
// and PutRun returns ErrTerminal for it.
//
// Runs are indexed by action id, plugin id, status, thread id and the pair
// action id + status, in index buckets whose keys are value + 0x00 + run
// id, so the runs with one value are a range sorted by id (time). PutRun
// moves a run's entries when its fields change, in the same transaction.
// ListRuns walks the indexes of all the filters it was given together (a
// leapfrog intersection of bbolt cursors: each seeks to the largest id the
// others have reached, reading only keys) and decodes only the runs it
// returns, so a filtered page costs about the same with a million runs
// stored as with a hundred. Check verifies the indexes against the runs.
//
// # Maintenance
//
// InterruptRuns (at start) fails the runs a stopped host left queued or
// running; Prune deletes old finished runs, expired idempotency records and
// orphaned messages; both work in transactions of at most a thousand
// records so that serving goes on. With LimitRuns, each copy of the journal
// into bbolt also deletes the oldest finished runs beyond the limit, so the
// count stays near it however fast runs arrive. Compact rewrites a file
// without its free pages.
//
// # Secrets
//
// API keys are stored as SHA-256 digests only. Plugin configuration values
// named in PluginRecord.SecretKeys are sealed with AES-256-GCM under
// Options.SecretKey (see LoadSecretKey) before they are written, with the
// plugin name and the config key as additional data, and opened on read.
// No error or log line carries a secret value.
//
// # Other backends
//
// host/pgstore keeps the same records in PostgreSQL. What both backends
// must do alike is exported here for it: the checks and encodings of
// runs, threads, messages, keys and idempotency claims (backend.go,
// NewKey, PrepareThread, PrepareIdempotent), the Sealer of secret config
// values, and Records, which reads a stopped host's file for
// `toolhost db copy`. The tests both pass are in storetest.
package store
