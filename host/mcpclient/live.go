package mcpclient

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
)

// live is one connection to the server: for a command, one process.
type live struct {
	session   *mcp.ClientSession
	started   time.Time
	terminate time.Duration // how long closing waits for the process to exit
	ended     chan struct{} // closed when the session ended
	exited    chan struct{} // closed once the session ended and the process is gone
	stopped   atomic.Bool   // the host ended it (no restart)
	killed    atomic.Bool   // the host killed it (a call ignored cancellation)
	stderr    *lineLog
	calls     sync.WaitGroup
	life      context.Context // ends when the connection is killed
	endLife   context.CancelFunc

	notes notes

	mu      sync.Mutex
	pid     int
	byToken map[string]*pending
	byID    map[string]*pending
}

// pending is a call in flight on a live connection.
type pending struct {
	token    string
	id       string
	onEvent  func(domain.PluginEvent)
	answer   chan struct{} // closed when an answer to the call arrives
	answered bool
}

func newLive(terminate time.Duration, stderr *lineLog) *live {
	life, endLife := context.WithCancel(context.Background())
	return &live{started: time.Now(), terminate: terminate, ended: make(chan struct{}), exited: make(chan struct{}), stderr: stderr,
		byToken: map[string]*pending{}, byID: map[string]*pending{}, life: life, endLife: endLife}
}

func (l *live) setPID(pid int) {
	l.mu.Lock()
	l.pid = pid
	l.mu.Unlock()
}

func (l *live) getPID() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

// begin registers a call with its progress token.
func (l *live) begin(token string, onEvent func(domain.PluginEvent)) *pending {
	p := &pending{token: token, onEvent: onEvent, answer: make(chan struct{})}
	l.mu.Lock()
	l.byToken[token] = p
	l.mu.Unlock()
	return p
}

// end forgets a call.
func (l *live) end(p *pending) {
	l.mu.Lock()
	delete(l.byToken, p.token)
	if p.id != "" {
		delete(l.byID, p.id)
	}
	l.mu.Unlock()
}

// sent links a call's JSON-RPC id to its token.
func (l *live) sent(token, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.byToken[token]; p != nil {
		p.id = id
		l.byID[id] = p
	}
}

// answered notes that the server answered the call with id.
func (l *live) answered(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.byID[id]; p != nil && !p.answered {
		p.answered = true
		close(p.answer)
	}
}

// eventsFor is where events for token go; nil when no call has it.
func (l *live) eventsFor(token string) func(domain.PluginEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.byToken[token]; p != nil {
		return p.onEvent
	}
	return nil
}

// soleCall is the events of the only call in flight, or nil when there
// are none or several (a log notification names no call).
func (l *live) soleCall() func(domain.PluginEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byToken) != 1 {
		return nil
	}
	for _, p := range l.byToken {
		return p.onEvent
	}
	return nil
}

// kill ends the process group at once (a remote session is closed).
func (l *live) kill() {
	l.endLife()
	if pid := l.getPID(); pid > 0 {
		supervisor.KillGroup(pid)
	}
	if l.session != nil && l.getPID() == 0 {
		go l.session.Close()
	}
}

func (l *live) isEnded() bool {
	select {
	case <-l.ended:
		return true
	default:
		return false
	}
}

// notes counts the progress and log notifications read from the server
// and those handled. The SDK hands notifications to their handlers on
// another goroutine than the one that delivers answers, so a call's answer
// can be delivered before the notifications the server sent ahead of it
// are handled; a call waits for those (see settle) before it ends.
type notes struct {
	read atomic.Int64
	mu   sync.Mutex
	done int64
	ch   chan struct{} // closed (and replaced) when one is handled
}

func (n *notes) handled() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.done++
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// settle waits, at most max, until every notification read so far has
// been handled.
func (n *notes) settle(max time.Duration) {
	target := n.read.Load()
	t := time.NewTimer(max)
	defer t.Stop()
	for {
		n.mu.Lock()
		if n.done >= target {
			n.mu.Unlock()
			return
		}
		if n.ch == nil {
			n.ch = make(chan struct{})
		}
		ch := n.ch
		n.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}
