package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

// CreateThread stores t and its first messages in one transaction. A thread
// without ID gets NewID(ThreadPrefix), and messages get ids, the thread id
// and times as in AddMessages; all are set on the arguments.
func (ts Threads) CreateThread(ctx context.Context, t *Thread, msgs []*Message) error {
	enc, err := PrepareThread(t)
	if err != nil {
		return err
	}
	msgEnc, err := prepareMessages(t.ID, msgs)
	if err != nil {
		return err
	}
	err = ts.db.batch(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketThreads)
		if b.Get([]byte(t.ID)) != nil {
			return reject(fmt.Errorf("thread %s already exists: %w", t.ID, ErrConflict))
		}
		if err := b.Put([]byte(t.ID), enc); err != nil {
			return err
		}
		return putMessages(tx, t.ID, msgs, msgEnc)
	})
	if err != nil {
		return fmt.Errorf("creating thread: %w", err)
	}
	return nil
}

// PrepareThread gives t an id (NewID(ThreadPrefix)), a creation time and
// metadata when it has none, checks them and encodes it as stored.
func PrepareThread(t *Thread) ([]byte, error) {
	if t.ID == "" {
		t.ID = NewID(ThreadPrefix)
	}
	if _, ok := idTime(t.ID, ThreadPrefix); !ok {
		return nil, invalidf("thread id %q is not %s followed by a ULID", t.ID, ThreadPrefix)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	if t.Metadata == nil {
		t.Metadata = map[string]string{}
	}
	if err := checkMetadata(t.Metadata); err != nil {
		return nil, err
	}
	enc, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encoding thread: %w", err)
	}
	return enc, nil
}

// checkMetadata enforces the metadata limits.
func checkMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return invalidf("metadata has %d keys, at most %d are allowed", len(md), MaxMetadataKeys)
	}
	for k, v := range md {
		if utf8.RuneCountInString(k) > MaxMetadataKeyLen {
			return invalidf("metadata key %.64q... is longer than %d characters", k, MaxMetadataKeyLen)
		}
		if utf8.RuneCountInString(v) > MaxMetadataValueLen {
			return invalidf("metadata value of %q is longer than %d characters", k, MaxMetadataValueLen)
		}
	}
	return nil
}

// GetThread returns the thread, or ErrNotFound.
func (ts Threads) GetThread(ctx context.Context, id string) (*Thread, error) {
	var t *Thread
	err := ts.db.view(func(tx *bbolt.Tx) error {
		var err error
		t, err = getThread(tx, id)
		return err
	})
	return t, err
}

func getThread(tx *bbolt.Tx, id string) (*Thread, error) {
	v := tx.Bucket(bucketThreads).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("thread %s: %w", id, ErrNotFound)
	}
	t := new(Thread)
	if err := json.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("decoding thread %s: %w", id, err)
	}
	return t, nil
}

// UpdateThreadMetadata replaces the thread's metadata and returns the
// thread as stored.
func (ts Threads) UpdateThreadMetadata(ctx context.Context, id string, md map[string]string) (*Thread, error) {
	if md == nil {
		md = map[string]string{}
	}
	if err := checkMetadata(md); err != nil {
		return nil, err
	}
	var t *Thread
	err := ts.db.batch(func(tx *bbolt.Tx) error {
		var err error
		if t, err = getThread(tx, id); err != nil {
			return reject(err)
		}
		t.Metadata = md
		enc, err := json.Marshal(t)
		if err != nil {
			return reject(err)
		}
		return tx.Bucket(bucketThreads).Put([]byte(id), enc)
	})
	if err != nil {
		return nil, fmt.Errorf("updating thread metadata: %w", err)
	}
	return t, nil
}

// DeleteThread deletes the thread and its messages. The thread and its
// first messages go in one transaction; a thread with more messages than
// that loses the rest in further transactions (Prune finishes the job if
// the process stops in between). Its runs stay in the history.
func (ts Threads) DeleteThread(ctx context.Context, id string) error {
	var more bool
	err := ts.db.update(func(tx *bbolt.Tx) error {
		if _, err := getThread(tx, id); err != nil {
			return err
		}
		if err := tx.Bucket(bucketThreads).Delete([]byte(id)); err != nil {
			return err
		}
		var err error
		more, err = deleteMessagesChunk(tx, id)
		return err
	})
	for err == nil && more {
		err = ts.db.update(func(tx *bbolt.Tx) error {
			var err error
			more, err = deleteMessagesChunk(tx, id)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("deleting thread: %w", err)
	}
	return nil
}

// messageChunk bounds the messages deleted per transaction.
const messageChunk = 10 * txChunk

// deleteMessagesChunk deletes up to messageChunk messages of the thread and
// tells whether any are left.
func deleteMessagesChunk(tx *bbolt.Tx, threadID string) (more bool, err error) {
	prefix := indexPrefix(threadID)
	c := tx.Bucket(bucketMessages).Cursor()
	n := 0
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if n == messageChunk {
			return true, nil
		}
		if err := c.Delete(); err != nil {
			return false, err
		}
		n++
	}
	return false, nil
}

// ListThreads returns one page of threads: those of the key with identity
// owner, or every thread when owner is "".
func (ts Threads) ListThreads(ctx context.Context, owner string, p Page) (threads []*Thread, hasMore bool, err error) {
	s, err := scanOf(p)
	if err != nil {
		return nil, false, err
	}
	err = ts.db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketThreads)
		var last *Thread
		match := func(id []byte) (bool, error) {
			last = new(Thread)
			if err := json.Unmarshal(b.Get(id), last); err != nil {
				return false, fmt.Errorf("decoding thread %s: %w", id, err)
			}
			return owner == "" || last.KeyID == owner, nil
		}
		hasMore, err = s.list([]*idCursor{newIDCursor(b, nil)}, match, func([]byte) error {
			threads = append(threads, last)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("listing threads: %w", err)
	}
	if s.reverse {
		reversed(threads)
	}
	return threads, hasMore, nil
}

// AddMessages appends messages to the thread in one transaction, or returns
// ErrNotFound when the thread does not exist. Messages without ID get
// NewID(MessagePrefix), without CreatedAt the current time; ThreadID is set.
func (ts Threads) AddMessages(ctx context.Context, threadID string, msgs ...*Message) error {
	enc, err := prepareMessages(threadID, msgs)
	if err != nil {
		return err
	}
	err = ts.db.batch(func(tx *bbolt.Tx) error {
		if _, err := getThread(tx, threadID); err != nil {
			return reject(err)
		}
		return putMessages(tx, threadID, msgs, enc)
	})
	if err != nil {
		return fmt.Errorf("adding messages: %w", err)
	}
	return nil
}

func prepareMessages(threadID string, msgs []*Message) ([][]byte, error) {
	if strings.IndexByte(threadID, 0) >= 0 {
		return nil, invalidf("thread id contains a NUL byte")
	}
	now := time.Now().UTC()
	enc := make([][]byte, len(msgs))
	for i, m := range msgs {
		if m.ID == "" {
			m.ID = NewID(MessagePrefix)
		}
		if m.ThreadID != "" && m.ThreadID != threadID {
			return nil, invalidf("message %s belongs to thread %s, not %s", m.ID, m.ThreadID, threadID)
		}
		if m.Role == "" {
			return nil, invalidf("message %s: role is empty", m.ID)
		}
		m.ThreadID = threadID
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		v, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding message %s: %w", m.ID, err)
		}
		enc[i] = v
	}
	return enc, nil
}

func putMessages(tx *bbolt.Tx, threadID string, msgs []*Message, enc [][]byte) error {
	b := tx.Bucket(bucketMessages)
	for i, m := range msgs {
		if err := b.Put(indexKey(threadID, m.ID), enc[i]); err != nil {
			return fmt.Errorf("writing message %s: %w", m.ID, err)
		}
	}
	return nil
}

// ListMessages returns one page of the thread's messages (newest first
// unless p.Order is asc), or ErrNotFound when the thread does not exist.
func (ts Threads) ListMessages(ctx context.Context, threadID string, p Page) (msgs []*Message, hasMore bool, err error) {
	s, err := scanOf(p)
	if err != nil {
		return nil, false, err
	}
	err = ts.db.view(func(tx *bbolt.Tx) error {
		if _, err := getThread(tx, threadID); err != nil {
			return err
		}
		b := tx.Bucket(bucketMessages)
		cur := newIDCursor(b, indexPrefix(threadID))
		hasMore, err = s.list([]*idCursor{cur}, nil, func(id []byte) error {
			m, err := decodeMessage(b.Get(cur.key(id)))
			msgs = append(msgs, m)
			return err
		})
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("listing messages: %w", err)
	}
	if s.reverse {
		reversed(msgs)
	}
	return msgs, hasMore, nil
}

// GetMessage returns one message of a thread, or ErrNotFound.
func (ts Threads) GetMessage(ctx context.Context, threadID, msgID string) (*Message, error) {
	var m *Message
	err := ts.db.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketMessages).Get(indexKey(threadID, msgID))
		if v == nil {
			return fmt.Errorf("message %s: %w", msgID, ErrNotFound)
		}
		var err error
		m, err = decodeMessage(v)
		return err
	})
	return m, err
}

func decodeMessage(v []byte) (*Message, error) {
	m := new(Message)
	if err := json.Unmarshal(v, m); err != nil {
		return nil, fmt.Errorf("decoding message: %w", err)
	}
	return m, nil
}

// sweepOrphanMessages deletes messages whose thread is gone (a DeleteThread
// cut short). It reads one key per thread.
func (db *DB) sweepOrphanMessages() error {
	var orphans []string
	err := db.view(func(tx *bbolt.Tx) error {
		threads := tx.Bucket(bucketThreads)
		c := tx.Bucket(bucketMessages).Cursor()
		for k, _ := c.First(); k != nil; {
			threadID, _, _ := bytes.Cut(k, []byte{0})
			if threads.Get(threadID) == nil {
				orphans = append(orphans, string(threadID))
			}
			k, _ = c.Seek(prefixEnd(indexPrefix(string(threadID))))
		}
		return nil
	})
	for _, id := range orphans {
		for more := true; more && err == nil; {
			err = db.update(func(tx *bbolt.Tx) error {
				var err error
				more, err = deleteMessagesChunk(tx, id)
				return err
			})
		}
	}
	if err != nil {
		return fmt.Errorf("deleting orphaned messages: %w", err)
	}
	return nil
}
