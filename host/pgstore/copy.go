package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// CopyCounts says what CopyFromBolt copied, by record kind, and what it
// left out.
type CopyCounts struct {
	Copied map[string]int // by store.Record* kind
	// Skipped names the records left out: run records that do not
	// decode, messages whose thread is gone.
	Skipped []string
}

// copyBatch is how many rows go to the database per COPY.
const copyBatch = 1000

// copyTables maps each record kind to its table and columns.
var copyTables = map[string]struct {
	table string
	cols  []string
}{
	store.RecordPlugins:     {"plugins", []string{"name", "record"}},
	store.RecordManifests:   {"manifests", []string{"sha256", "raw"}},
	store.RecordKeys:        {"api_keys", []string{"name", "digest", "record"}},
	store.RecordRuns:        {"runs", []string{"id", "status", "action_id", "plugin_id", "thread_id", "key_id", "created_at", "record"}},
	store.RecordThreads:     {"threads", []string{"id", "key_id", "record"}},
	store.RecordMessages:    {"messages", []string{"thread_id", "id", "record"}},
	store.RecordIdempotency: {"idempotency", []string{"key", "created_at", "record"}},
}

// CopyFromBolt copies every record of src into the database, as stored:
// secret plugin config values stay sealed (the replicas then need the
// secret key src was used with), API keys stay digests, runs keep their
// events. The database must hold no records (ErrNotEmpty otherwise); the
// copy is one transaction, so a failed copy leaves it empty. src must
// not be in use by a host.
func (db *DB) CopyFromBolt(ctx context.Context, src *store.DB) (CopyCounts, error) {
	counts := CopyCounts{Copied: map[string]int{}}
	if err := db.mustBeEmpty(ctx); err != nil {
		return counts, err
	}
	threads := map[string]bool{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for _, kind := range store.RecordKinds {
			c := &copier{ctx: ctx, tx: tx, kind: kind, counts: &counts, threads: threads}
			if err := src.Records(kind, c.add); err != nil {
				return err
			}
			if err := c.flush(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return CopyCounts{Copied: map[string]int{}}, fmt.Errorf("copying into the database at %s: %w", db.where, err)
	}
	return counts, nil
}

// mustBeEmpty refuses a database that holds any record.
func (db *DB) mustBeEmpty(ctx context.Context) error {
	st, err := db.Stats(ctx)
	if err != nil {
		return err
	}
	if n := st.Runs + st.Threads + st.Messages + st.Plugins + st.Keys + st.Manifests + st.Idempotency; n > 0 {
		return &wrapped{Msg: fmt.Sprintf("the database at %s already holds records (%d runs, %d threads, %d keys, %d plugins): copy into an empty database",
			db.where, st.Runs, st.Threads, st.Keys, st.Plugins), Err: ErrNotEmpty}
	}
	return nil
}

// copier turns one kind's records into rows and sends them in batches.
type copier struct {
	ctx     context.Context
	tx      pgx.Tx
	kind    string
	rows    [][]any
	counts  *CopyCounts
	threads map[string]bool // thread ids copied, for their messages
}

func (c *copier) add(k, v []byte) error {
	row, err := c.row(string(k), bytes.Clone(v))
	if err != nil {
		return err
	}
	if row == nil {
		return nil
	}
	c.rows = append(c.rows, row)
	if len(c.rows) == copyBatch {
		return c.flush(c.ctx)
	}
	return nil
}

// row is the table row for one record; nil skips it (counts.Skipped
// says why).
func (c *copier) row(key string, v []byte) ([]any, error) {
	switch c.kind {
	case store.RecordPlugins, store.RecordManifests:
		return []any{key, v}, nil
	case store.RecordKeys:
		var k domain.APIKey
		if err := json.Unmarshal(v, &k); err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		return []any{key, k.Digest, v}, nil
	case store.RecordRuns:
		r, err := store.DecodeRun(key, v)
		if err != nil {
			c.counts.Skipped = append(c.counts.Skipped, fmt.Sprintf("run %s: %v", key, err))
			return nil, nil
		}
		return []any{key, r.Status, r.ActionID, r.PluginID, r.ThreadID, r.KeyID, r.CreatedAt, v}, nil
	case store.RecordThreads:
		var t domain.Thread
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("thread %s: %w", key, err)
		}
		c.threads[key] = true
		return []any{key, t.KeyID, v}, nil
	case store.RecordMessages:
		threadID, msgID, _ := bytes.Cut([]byte(key), []byte{0})
		if !c.threads[string(threadID)] {
			c.counts.Skipped = append(c.counts.Skipped, fmt.Sprintf("message %s: its thread %s was deleted", msgID, threadID))
			return nil, nil
		}
		return []any{string(threadID), string(msgID), v}, nil
	case store.RecordIdempotency:
		var rec struct {
			CreatedAt time.Time `json:"created_at"`
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("idempotency record: %w", err)
		}
		return []any{[]byte(key), rec.CreatedAt, v}, nil
	}
	return nil, fmt.Errorf("unknown record kind %q", c.kind)
}

func (c *copier) flush(ctx context.Context) error {
	if len(c.rows) == 0 {
		return nil
	}
	t := copyTables[c.kind]
	n, err := c.tx.CopyFrom(ctx, pgx.Identifier{t.table}, t.cols, pgx.CopyFromRows(c.rows))
	if err != nil {
		return fmt.Errorf("copying %s: %w", c.kind, err)
	}
	c.counts.Copied[c.kind] += int(n)
	c.rows = c.rows[:0]
	return nil
}
