package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// heartbeat is how often an idle stream gets a comment line, so proxies
// keep it open.
var heartbeat = 15 * time.Second

// sseWriter writes Server-Sent Events and remembers the last id sent.
type sseWriter struct {
	w     http.ResponseWriter
	after int
	endAt func(domain.Event) bool
}

func (s *sseWriter) ends(e domain.Event) bool { return s.endAt != nil && s.endAt(e) }

func (s *sseWriter) send(e domain.Event) bool {
	if _, err := fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, eventData(e)); err != nil {
		return false
	}
	s.after = e.Seq
	return true
}

func (s *sseWriter) comment(text string) bool {
	_, err := fmt.Fprintf(s.w, ": %s\n\n", text)
	return err == nil
}

func (s *sseWriter) flush() {
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// streamRun writes a run's events after seq as Server-Sent Events, follows
// it live until it ends (or until an event for which endAt is true, such as
// an assistant run stopping for tool outputs), then writes "data: [DONE]".
// A client that leaves does not stop the run.
func (s *server) streamRun(w http.ResponseWriter, r *http.Request, runID string, after int, endAt func(domain.Event) bool) {
	past, live, stop, err := s.runner.Follow(r.Context(), runID, after)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &sseWriter{w: w, after: after, endAt: endAt}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		ended, gone := s.relay(r, out, past, live, tick)
		stop()
		if gone {
			return
		}
		if !ended {
			run, err := s.runner.Get(r.Context(), runID)
			ended = err != nil || domain.IsTerminal(run.Status) || !s.runner.Live(runID)
			if ended {
				// Catch up on anything the live channel did not carry.
				if rest, _, stop2, err := s.runner.Follow(r.Context(), runID, out.after); err == nil {
					stop2()
					for _, e := range rest {
						out.send(e)
					}
				}
			}
		}
		if ended {
			fmt.Fprint(w, "data: [DONE]\n\n")
			out.flush()
			return
		}
		// The follower fell behind and was cut off: resume where it was.
		if past, live, stop, err = s.runner.Follow(r.Context(), runID, out.after); err != nil {
			return
		}
	}
}

// relay sends past events, then live ones until the channel closes. It
// reports whether an endAt event was sent (ended) or the client left (gone).
func (s *server) relay(r *http.Request, out *sseWriter, past []domain.Event, live <-chan domain.Event, tick *time.Ticker) (ended, gone bool) {
	for _, e := range past {
		if !out.send(e) {
			return false, true
		}
		if out.ends(e) {
			return true, false
		}
	}
	out.flush()
	for {
		select {
		case e, open := <-live:
			if !open {
				return false, false
			}
			if e.Seq <= out.after {
				continue
			}
			if !out.send(e) {
				return false, true
			}
			out.flush()
			if out.ends(e) {
				return true, false
			}
		case <-tick.C:
			if !out.comment("ping") {
				return false, true
			}
			out.flush()
		case <-r.Context().Done():
			return false, true
		}
	}
}

func eventData(e domain.Event) []byte {
	data := map[string]any{"seq": e.Seq, "at": e.At}
	if len(e.Data) > 0 {
		data["data"] = json.RawMessage(e.Data)
	}
	raw, _ := json.Marshal(data)
	return raw
}
