package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// fakeHub is a Cluster in memory shared by several Runners, one
// fakeReplica each: the database and its LISTEN/NOTIFY, without either.
type fakeHub struct {
	mu       sync.Mutex
	queue    []queuedRun
	owners   map[string]string // run id → replica
	watchers map[string]map[chan domain.RunNote]bool
	replicas []*fakeReplica
	enqueued chan struct{} // closed and replaced on each Enqueue
	// failEnqueue, when set, is Enqueue's error.
	failEnqueue error
	// claimer, when set, is the only replica whose workers take runs.
	claimer string
}

type queuedRun struct {
	id    string
	input []byte
}

func newFakeHub() *fakeHub {
	return &fakeHub{owners: map[string]string{}, watchers: map[string]map[chan domain.RunNote]bool{}, enqueued: make(chan struct{})}
}

// fakeReplica is one replica's view of the hub.
type fakeReplica struct {
	hub  *fakeHub
	name string
	reqs chan domain.RunRequest
}

func (h *fakeHub) replica(name string) *fakeReplica {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &fakeReplica{hub: h, name: name, reqs: make(chan domain.RunRequest, 256)}
	h.replicas = append(h.replicas, m)
	return m
}

// ownedBy lists the runs a replica owns.
func (h *fakeHub) ownedBy(name string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for id, o := range h.owners {
		if o == name {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (m *fakeReplica) Own(ctx context.Context, runID string) error {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	m.hub.owners[runID] = m.name
	return nil
}

func (m *fakeReplica) Disown(runID string) {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	delete(m.hub.owners, runID)
}

func (m *fakeReplica) Enqueue(ctx context.Context, runID string, input []byte, limit int) error {
	h := m.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failEnqueue != nil {
		return h.failEnqueue
	}
	if len(h.queue) >= limit {
		return core.ErrQueueFull
	}
	h.queue = append(h.queue, queuedRun{runID, slices.Clone(input)})
	delete(h.owners, runID)
	close(h.enqueued)
	h.enqueued = make(chan struct{})
	return nil
}

func (m *fakeReplica) Claim(ctx context.Context) (string, []byte, error) {
	h := m.hub
	for {
		h.mu.Lock()
		if len(h.queue) > 0 && (h.claimer == "" || h.claimer == m.name) {
			q := h.queue[0]
			h.queue = h.queue[1:]
			h.owners[q.id] = m.name
			h.mu.Unlock()
			return q.id, q.input, nil
		}
		wake := h.enqueued
		h.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return "", nil, ctx.Err()
		}
	}
}

func (m *fakeReplica) Unqueue(ctx context.Context, runID string) (bool, error) {
	h := m.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, q := range h.queue {
		if q.id == runID {
			h.queue = slices.Delete(h.queue, i, i+1)
			h.owners[runID] = m.name
			return true, nil
		}
	}
	return false, nil
}

func (m *fakeReplica) note(runID string, n domain.RunNote) {
	h := m.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.watchers[runID] {
		select {
		case ch <- n:
		default: // at most once, as NOTIFY to a slow listener
		}
	}
}

func (m *fakeReplica) Publish(runID string, ev domain.Event) {
	m.note(runID, domain.RunNote{Event: &ev})
}
func (m *fakeReplica) Ended(runID string) { m.note(runID, domain.RunNote{Ended: true}) }

func (m *fakeReplica) Watch(runID string) (<-chan domain.RunNote, func()) {
	h := m.hub
	ch := make(chan domain.RunNote, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watchers[runID] == nil {
		h.watchers[runID] = map[chan domain.RunNote]bool{}
	}
	h.watchers[runID][ch] = true
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.watchers[runID], ch)
	}
}

func (m *fakeReplica) Ask(ctx context.Context, req domain.RunRequest) error {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	for _, o := range m.hub.replicas {
		select {
		case o.reqs <- req:
		default:
		}
	}
	return nil
}

func (m *fakeReplica) Requests() <-chan domain.RunRequest { return m.reqs }

// replicaSet is several Runners over one run store and one hub, each with
// its own plugin (so a test can count where a run ran).
type replicaSet struct {
	hub     *fakeHub
	runs    *fakeRuns
	idem    *fakeIdem
	runners []*core.Runner
	plugins []*fakePlugin
}

func newReplicaSet(t *testing.T, n, queueSize, workers int) *replicaSet {
	t.Helper()
	old := core.SetRemotePoll(20 * time.Millisecond)
	t.Cleanup(func() { core.SetRemotePoll(old) })
	s := &replicaSet{hub: newFakeHub(), runs: newFakeRuns(), idem: newFakeIdem()}
	for i := 0; i < n; i++ {
		p := newFakePlugin()
		r := core.NewRunner(core.Options{
			Executor: &fakeExec{plugins: []core.Plugin{p}}, Runs: s.runs, Idempotency: s.idem,
			QueueSize: queueSize, Workers: workers, Cluster: s.hub.replica(string(rune('a' + i))),
		})
		s.runners, s.plugins = append(s.runners, r), append(s.plugins, p)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			_ = r.Shutdown(ctx)
		})
	}
	return s
}

// calls is how many plugin calls every replica made together.
func (s *replicaSet) calls() int {
	n := 0
	for _, p := range s.plugins {
		n += p.callCount()
	}
	return n
}

// waitStored waits until the stored run id is finished and returns it.
func (s *replicaSet) waitStored(t *testing.T, id string) *domain.Run {
	t.Helper()
	for deadline := time.Now().Add(waitFor); ; time.Sleep(2 * time.Millisecond) {
		if r := s.runs.stored(id); r != nil && domain.IsTerminal(r.Status) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s did not end: %+v", id, s.runs.stored(id))
		}
	}
}
