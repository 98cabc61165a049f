package mcpclient

import (
	"container/list"
	"encoding/json"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Raw results: a run's output keeps a summary of a tool result (binary
// content by type, size and MIME type), but /mcp/{server} answers with the
// result as the server sent it. So while that door has calls in flight
// (ExpectResults), each call's result is kept here, by run id, until the
// door takes it or it expires; a result no one takes (a call through
// another door meanwhile) costs memory for rawTTL at most, and rawMaxBytes
// and rawMaxCount bound them all.
const (
	rawTTL      = 30 * time.Second
	rawMaxBytes = 64 << 20
	rawMaxCount = 4096
)

type rawEntry struct {
	runID string
	res   *mcp.CallToolResult
	size  int
	at    time.Time
}

// rawResults holds results by run id, oldest first.
type rawResults struct {
	mu    sync.Mutex
	byRun map[string]*list.Element
	order list.List
	bytes int
	now   func() time.Time
}

func (r *rawResults) put(runID string, res *mcp.CallToolResult, size int) {
	if runID == "" || res == nil || size > rawMaxBytes {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byRun == nil {
		r.byRun = map[string]*list.Element{}
		r.now = time.Now
	}
	if old := r.byRun[runID]; old != nil {
		r.removeLocked(old)
	}
	r.expireLocked()
	for (r.bytes+size > rawMaxBytes || r.order.Len() >= rawMaxCount) && r.order.Len() > 0 {
		r.removeLocked(r.order.Front())
	}
	r.byRun[runID] = r.order.PushBack(&rawEntry{runID: runID, res: res, size: size, at: r.now()})
	r.bytes += size
}

// take returns the run's result once; nil when there is none (expired,
// taken, or the run's call never answered).
func (r *rawResults) take(runID string) *mcp.CallToolResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byRun == nil {
		return nil
	}
	r.expireLocked()
	el := r.byRun[runID]
	if el == nil {
		return nil
	}
	r.removeLocked(el)
	return el.Value.(*rawEntry).res
}

func (r *rawResults) expireLocked() {
	for el := r.order.Front(); el != nil && r.now().Sub(el.Value.(*rawEntry).at) > rawTTL; el = r.order.Front() {
		r.removeLocked(el)
	}
}

func (r *rawResults) removeLocked(el *list.Element) {
	e := el.Value.(*rawEntry)
	r.order.Remove(el)
	delete(r.byRun, e.runID)
	r.bytes -= e.size
}

// keepRaw keeps a call's result for /mcp/{server}. Its secrets are
// scrubbed when it is taken, so calls through other doors pay nothing
// but the memory.
func (s *Server) keepRaw(runID string, res *mcp.CallToolResult) {
	if s.rawWanted.Load() > 0 {
		s.raw.put(runID, res, resultSize(res))
	}
}

// ExpectResults says a call whose result will be taken (TakeResult) is
// about to be made; results are kept until done is called.
func (s *Server) ExpectResults() (done func()) {
	s.rawWanted.Add(1)
	var once sync.Once
	return func() { once.Do(func() { s.rawWanted.Add(-1) }) }
}

// resultSize is about how much memory the result's content holds.
func resultSize(res *mcp.CallToolResult) int {
	n := 256
	for _, c := range res.Content {
		switch v := c.(type) {
		case *mcp.TextContent:
			n += len(v.Text)
		case *mcp.ImageContent:
			n += len(v.Data)
		case *mcp.AudioContent:
			n += len(v.Data)
		case *mcp.EmbeddedResource:
			if v.Resource != nil {
				n += len(v.Resource.Text) + len(v.Resource.Blob)
			}
		}
		n += 64
	}
	return n
}

// TakeResult is the run's tool result as the server sent it, once, with
// its secrets scrubbed from every string in it (text, structured content,
// resources, _meta); nil when there is none, or when the result no longer
// decodes once scrubbed (the door then answers from the run's output).
func (s *Server) TakeResult(runID string) *mcp.CallToolResult {
	res := s.raw.take(runID)
	if res == nil || len(s.secrets) == 0 {
		return res
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil
	}
	clean := s.scrub(string(raw))
	if clean == string(raw) {
		return res
	}
	out := new(mcp.CallToolResult)
	if err := json.Unmarshal([]byte(clean), out); err != nil {
		return nil
	}
	return out
}

// ServerTools are the server's tools as it listed them, by action key
// (only those that became actions).
func (s *Server) ServerTools() map[string]*mcp.Tool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]*mcp.Tool{}
	if s.cat != nil {
		for k, t := range s.cat.raw {
			out[k] = t
		}
	}
	return out
}

// Initialized is what the server said when it was last initialized (its
// info, capabilities and instructions); nil before it was.
func (s *Server) Initialized() *mcp.InitializeResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cat == nil {
		return nil
	}
	return s.cat.init
}
