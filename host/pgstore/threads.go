package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

const insertMessage = `INSERT INTO messages (thread_id, id, record) VALUES ($1, $2, $3)
ON CONFLICT (thread_id, id) DO UPDATE SET record = EXCLUDED.record`

// CreateThread stores t and its first messages in one transaction. A
// thread without ID gets NewID(ThreadPrefix), and messages get ids, the
// thread id and times as in AddMessages; all are set on the arguments.
func (ts Threads) CreateThread(ctx context.Context, t *domain.Thread, msgs []*domain.Message) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	enc, err := store.PrepareThread(t)
	if err != nil {
		return err
	}
	msgEnc, err := store.PrepareMessages(t.ID, msgs)
	if err != nil {
		return err
	}
	err = ts.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO threads (id, key_id, record) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING", t.ID, t.KeyID, enc)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("thread %s already exists: %w", t.ID, ErrConflict)
		}
		return insertMessages(ctx, tx, t.ID, msgs, msgEnc)
	})
	if err != nil {
		return fmt.Errorf("creating thread: %w", err)
	}
	return nil
}

func insertMessages(ctx context.Context, tx pgx.Tx, threadID string, msgs []*domain.Message, enc [][]byte) error {
	if len(msgs) == 0 {
		return nil
	}
	var b pgx.Batch
	for i, m := range msgs {
		b.Queue(insertMessage, threadID, m.ID, enc[i])
	}
	return tx.SendBatch(ctx, &b).Close()
}

// GetThread returns the thread, or ErrNotFound.
func (ts Threads) GetThread(ctx context.Context, id string) (*domain.Thread, error) {
	return getThread(ctx, ts.db, ts.db.pool, id, "")
}

// getThread reads the thread id with q, appending suffix to the query
// (" FOR UPDATE").
func getThread(ctx context.Context, db *DB, q querier, id, suffix string) (*domain.Thread, error) {
	var v []byte
	err := q.QueryRow(ctx, "SELECT record FROM threads WHERE id = $1"+suffix, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("thread %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, db.fail("reading thread "+id, err)
	}
	return decodeThread(id, v)
}

func decodeThread(id string, v []byte) (*domain.Thread, error) {
	t := new(domain.Thread)
	if err := json.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("decoding thread %s: %w", id, err)
	}
	return t, nil
}

// UpdateThreadMetadata replaces the thread's metadata and returns the
// thread as stored.
func (ts Threads) UpdateThreadMetadata(ctx context.Context, id string, md map[string]string) (*domain.Thread, error) {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	if md == nil {
		md = map[string]string{}
	}
	if err := store.CheckMetadata(md); err != nil {
		return nil, err
	}
	var t *domain.Thread
	err := ts.db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = getThread(ctx, ts.db, tx, id, " FOR UPDATE"); err != nil {
			return err
		}
		t.Metadata = md
		enc, err := json.Marshal(t)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE threads SET record = $2 WHERE id = $1", id, enc)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("updating thread metadata: %w", err)
	}
	return t, nil
}

// DeleteThread deletes the thread and its messages (in one statement:
// they reference it). Its runs stay in the history.
func (ts Threads) DeleteThread(ctx context.Context, id string) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	tag, err := ts.db.pool.Exec(ctx, "DELETE FROM threads WHERE id = $1", id)
	if err != nil {
		return ts.db.fail("deleting thread", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("deleting thread: thread %s: %w", id, ErrNotFound)
	}
	return nil
}

// ListThreads returns one page of threads: those of the key with identity
// owner, or every thread when owner is "".
func (ts Threads) ListThreads(ctx context.Context, owner string, p domain.Page) (threads []*domain.Thread, hasMore bool, err error) {
	q := pageQuery{table: "threads", cols: "id, record"}
	if owner != "" {
		q.cond("key_id = %s", owner)
	}
	threads, hasMore, damaged, err := readPage(ctx, ts.db, q, p, recordRows(decodeThread))
	if err = noDamage("thread", damaged, err); err != nil {
		return nil, false, fmt.Errorf("listing threads: %w", err)
	}
	return threads, hasMore, nil
}

// AddMessages appends messages to the thread in one transaction, or
// returns ErrNotFound when the thread does not exist. Messages without ID
// get NewID(MessagePrefix), without CreatedAt the current time; ThreadID
// is set.
func (ts Threads) AddMessages(ctx context.Context, threadID string, msgs ...*domain.Message) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	enc, err := store.PrepareMessages(threadID, msgs)
	if err != nil {
		return err
	}
	err = ts.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := getThread(ctx, ts.db, tx, threadID, " FOR SHARE"); err != nil {
			return err
		}
		err := insertMessages(ctx, tx, threadID, msgs, enc)
		if isCode(err, codeForeignKey) { // deleted meanwhile
			return fmt.Errorf("thread %s: %w", threadID, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("adding messages: %w", err)
	}
	return nil
}

// ListMessages returns one page of the thread's messages (newest first
// unless p.Order is asc), or ErrNotFound when the thread does not exist.
func (ts Threads) ListMessages(ctx context.Context, threadID string, p domain.Page) (msgs []*domain.Message, hasMore bool, err error) {
	if _, err := store.CheckPage(p); err != nil {
		return nil, false, err
	}
	if _, err := ts.GetThread(ctx, threadID); err != nil {
		return nil, false, fmt.Errorf("listing messages: %w", err)
	}
	q := pageQuery{table: "messages", cols: "id, record"}
	q.cond("thread_id = %s", threadID)
	msgs, hasMore, damaged, err := readPage(ctx, ts.db, q, p, recordRows(func(_ string, v []byte) (*domain.Message, error) {
		return store.DecodeMessage(v)
	}))
	if err = noDamage("message", damaged, err); err != nil {
		return nil, false, fmt.Errorf("listing messages: %w", err)
	}
	return msgs, hasMore, nil
}

// GetMessage returns one message of a thread, or ErrNotFound.
func (ts Threads) GetMessage(ctx context.Context, threadID, msgID string) (*domain.Message, error) {
	var v []byte
	err := ts.db.pool.QueryRow(ctx, "SELECT record FROM messages WHERE thread_id = $1 AND id = $2", threadID, msgID).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("message %s: %w", msgID, ErrNotFound)
	}
	if err != nil {
		return nil, ts.db.fail("reading message "+msgID, err)
	}
	return store.DecodeMessage(v)
}
