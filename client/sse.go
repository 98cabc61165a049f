package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Event is one Server-Sent Event of a run's stream.
type Event struct {
	ID   int             // the event's number in its run (0 when it has none)
	Type string          // run.created, run.log, run.output, run.succeeded...
	Data json.RawMessage // its JSON data
}

// EventReader reads Server-Sent Events from a stream until "data: [DONE]"
// or its end.
type EventReader struct {
	body io.ReadCloser
	sc   *bufio.Scanner
	done bool
}

// NewEventReader reads the events of an SSE body.
func NewEventReader(body io.ReadCloser) *EventReader {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return &EventReader{body: body, sc: sc}
}

// Next returns the next event: io.EOF after "data: [DONE]", and
// io.ErrUnexpectedEOF when the stream ends before it. Comment lines
// (heartbeats) are skipped.
func (r *EventReader) Next() (Event, error) {
	var e Event
	var data strings.Builder
	for !r.done && r.sc.Scan() {
		line := strings.TrimSuffix(r.sc.Text(), "\r")
		switch {
		case line == "":
			if data.Len() == 0 && e.Type == "" {
				continue
			}
			e.Data = json.RawMessage(data.String())
			return e, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id:"):
			e.ID, _ = strconv.Atoi(strings.TrimSpace(line[3:]))
		case strings.HasPrefix(line, "event:"):
			e.Type = strings.TrimSpace(line[6:])
		case strings.HasPrefix(line, "data:"):
			v := strings.TrimPrefix(line[5:], " ")
			if v == "[DONE]" && e.Type == "" {
				r.done = true
				return Event{}, io.EOF
			}
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(v)
		}
	}
	if err := r.sc.Err(); err != nil {
		return Event{}, fmt.Errorf("reading the event stream: %w", err)
	}
	if r.done {
		return Event{}, io.EOF
	}
	return Event{}, io.ErrUnexpectedEOF
}

// Close ends the stream.
func (r *EventReader) Close() error { return r.body.Close() }

// Events follows a run's events after event number after (0: from the
// start) until the run ends.
func (c *Client) Events(ctx context.Context, runID string, after int) (*EventReader, error) {
	path := "/v1/runs/" + url.PathEscape(runID) + "/events"
	if after > 0 {
		path += "?after=" + strconv.Itoa(after)
	}
	res, err := c.Stream(ctx, http.MethodGet, path, nil, Header{"Accept", "text/event-stream"})
	if err != nil {
		return nil, err
	}
	return NewEventReader(res.Body), nil
}
