package pgstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
)

// maxPayload is the largest NOTIFY payload sent (PostgreSQL's limit is
// 8000 bytes). An event that does not fit is not published: a follower
// reads it from the run's final record.
const maxPayload = 7900

// runSignal is a chanRuns payload: an event of run R, or its end.
type runSignal struct {
	R   string        `json:"r"`
	E   *domain.Event `json:"e,omitempty"`
	End bool          `json:"end,omitempty"`
}

// askSignal is a chanAsks payload.
type askSignal struct {
	K domain.RunRequestKind `json:"k"`
	R string                `json:"r"`
	A int                   `json:"a,omitempty"`
}

// Publish hands an event of a run this replica runs to the replicas
// watching it. It never blocks: when the outbox is full the event is left
// out, and followers read it from the run's record.
func (c *Cluster) Publish(runID string, ev domain.Event) {
	raw, err := json.Marshal(runSignal{R: runID, E: &ev})
	if err != nil || len(raw) > maxPayload {
		return
	}
	c.post(notice{chanRuns, string(raw)})
}

// Ended tells the replicas watching runID that its final record is stored.
func (c *Cluster) Ended(runID string) {
	raw, _ := json.Marshal(runSignal{R: runID, End: true})
	c.post(notice{chanRuns, string(raw)})
}

func (c *Cluster) post(n notice) {
	defer func() { _ = recover() }() // closed: the replica is leaving
	select {
	case c.outbox <- n:
	default:
	}
}

// sendNotices sends the outbox's notifications in order, those waiting
// together in one round trip (one transaction), until Close.
func (c *Cluster) sendNotices() {
	for n := range c.outbox {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_notify($1, $2)`, n.channel, n.payload)
	more:
		for b.Len() < 256 {
			select {
			case n, open := <-c.outbox:
				if !open {
					break more
				}
				b.Queue(`SELECT pg_notify($1, $2)`, n.channel, n.payload)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.lease)
		if err := c.db.pool.SendBatch(ctx, b).Close(); err != nil {
			c.log.Warn("could not send run events to the other replicas", "error", c.db.scrub(err))
		}
		cancel()
	}
}

// Watch returns what this replica hears of runID until stop is called.
func (c *Cluster) Watch(runID string) (<-chan domain.RunNote, func()) {
	ch := make(chan domain.RunNote, 256)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.watchers[runID] == nil {
		c.watchers[runID] = map[chan domain.RunNote]bool{}
	}
	c.watchers[runID][ch] = true
	return ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.watchers[runID], ch)
		if len(c.watchers[runID]) == 0 {
			delete(c.watchers, runID)
		}
	}
}

// Ask sends req to whichever replica runs the run it names.
func (c *Cluster) Ask(ctx context.Context, req domain.RunRequest) error {
	raw, _ := json.Marshal(askSignal{K: req.Kind, R: req.RunID, A: req.After})
	if _, err := c.db.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, chanAsks, string(raw)); err != nil {
		return c.errorf(err, "asking for run %s (%s)", req.RunID, req.Kind)
	}
	return nil
}

// Requests is where the replicas' requests arrive (this one's too).
func (c *Cluster) Requests() <-chan domain.RunRequest { return c.requests }

// listener is the connection that LISTENs, apart from the pool.
type listener struct {
	c    *Cluster
	conn *pgx.Conn
}

// listen opens the listening connection.
func (c *Cluster) listen(ctx context.Context) (*listener, error) {
	cfg := c.db.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, c.db.unreachable(err)
	}
	for _, ch := range []string{chanRuns, chanAsks, chanQueue} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			conn.Close(context.Background())
			return nil, c.errorf(err, "listening on %s", ch)
		}
	}
	return &listener{c: c, conn: conn}, nil
}

// serve hands on notifications until ctx ends; when the connection
// fails it connects again (what was sent meanwhile is lost: followers and
// workers also poll).
func (l *listener) serve(ctx context.Context) {
	defer func() { l.conn.Close(context.Background()) }()
	for {
		n, err := l.conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			l.c.dispatch(n.Channel, n.Payload)
			continue
		}
		l.c.log.Warn("lost the connection that hears other replicas; connecting again", "error", l.c.db.scrub(err))
		l.conn.Close(context.Background())
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(claimPoll):
			}
			fresh, err := l.c.listen(ctx)
			if err == nil {
				l.conn = fresh.conn
				break
			}
		}
		l.c.nudge() // a run may have been queued meanwhile
	}
}

// dispatch hands one notification to whoever in this replica waits for it.
func (c *Cluster) dispatch(channel, payload string) {
	switch channel {
	case chanQueue:
		c.nudge()
	case chanAsks:
		var a askSignal
		if json.Unmarshal([]byte(payload), &a) != nil || a.R == "" {
			return
		}
		select {
		case c.requests <- domain.RunRequest{Kind: a.K, RunID: a.R, After: a.A}:
		default: // the asker asks again
		}
	case chanRuns:
		var s runSignal
		if json.Unmarshal([]byte(payload), &s) != nil || s.R == "" {
			return
		}
		note := domain.RunNote{Event: s.E, Ended: s.End}
		c.mu.Lock()
		defer c.mu.Unlock()
		for ch := range c.watchers[s.R] {
			select {
			case ch <- note:
			default: // a watcher that cannot keep up reads the record
			}
		}
	}
}
