package store

import (
	"fmt"

	"go.etcd.io/bbolt"
)

// Record kinds: the buckets Records reads, each holding one aggregate's
// records as stored.
const (
	RecordPlugins     = "plugins"     // key: plugin name; value: PluginRecord JSON, secrets sealed
	RecordManifests   = "manifests"   // key: binary sha256 (hex); value: the manifest
	RecordKeys        = "keys"        // key: key name; value: APIKey JSON (digest only)
	RecordRuns        = "runs"        // key: run id; value: the run as EncodeRun wrote it
	RecordThreads     = "threads"     // key: thread id; value: Thread JSON
	RecordMessages    = "messages"    // key: thread id, NUL, message id; value: Message JSON
	RecordIdempotency = "idempotency" // key: scoped idempotency key; value: IdempotencyRecord JSON
)

// RecordKinds lists the record kinds in an order that copies safely
// (threads before their messages).
var RecordKinds = []string{RecordPlugins, RecordManifests, RecordKeys, RecordRuns, RecordThreads, RecordMessages, RecordIdempotency}

// Records calls fn with every record of kind, as stored, in key order,
// within one read transaction, after copying in what the run journal
// holds. Key and value are valid only during the call. It is for moving
// a deployment to another backend (toolhost db copy) with the host
// stopped.
func (db *DB) Records(kind string, fn func(key, value []byte) error) error {
	b := bucketOf(kind)
	if b == nil {
		return invalidf("record kind must be one of %v, got %q", RecordKinds, kind)
	}
	if err := db.journal.settle(); err != nil {
		return err
	}
	err := db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(b).ForEach(fn)
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", kind, err)
	}
	return nil
}

func bucketOf(kind string) []byte {
	for _, b := range [][]byte{bucketPlugins, bucketManifests, bucketKeys, bucketRuns, bucketThreads, bucketMessages, bucketIdempotency} {
		if string(b) == kind {
			return b
		}
	}
	return nil
}
