package client

import (
	"context"
	"net/http"
	"net/url"
)

// RunOptions say how to run an action.
type RunOptions struct {
	// IdempotencyKey makes a retry return the first run's answer.
	IdempotencyKey string
}

// RunAction runs an action (by id or plugin.actionKey) to its end with
// input and returns its answer; a failed run is an *Error with the run id.
func (c *Client) RunAction(ctx context.Context, action string, input any, o RunOptions) (*RunAnswer, error) {
	var ans RunAnswer
	if _, err := c.callWith(ctx, http.MethodPost, "/v1/actions/"+url.PathEscape(action)+"/run", input, &ans, idemHeader(o)); err != nil {
		return nil, err
	}
	return &ans, nil
}

// StartAction starts an action without waiting for it (?blocking=false).
func (c *Client) StartAction(ctx context.Context, action string, input any, o RunOptions) (*Started, error) {
	var s Started
	if _, err := c.callWith(ctx, http.MethodPost, "/v1/actions/"+url.PathEscape(action)+"/run?blocking=false", input, &s, idemHeader(o)); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetRun returns a run with its logs.
func (c *Client) GetRun(ctx context.Context, id string) (*Run, error) {
	var r Run
	if _, err := c.Call(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(id), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListRuns lists runs; q holds the filters and the page (action_id,
// status, limit, after...).
func (c *Client) ListRuns(ctx context.Context, q url.Values) (*List[Run], error) {
	var l List[Run]
	path := "/v1/runs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if _, err := c.Call(ctx, http.MethodGet, path, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// CancelRun cancels a queued or running run.
func (c *Client) CancelRun(ctx context.Context, id string) (*Run, error) {
	var r Run
	if _, err := c.Call(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(id)+"/cancel", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

func idemHeader(o RunOptions) Header {
	if o.IdempotencyKey == "" {
		return nil
	}
	return Header{"Idempotency-Key", o.IdempotencyKey}
}

func (c *Client) callWith(ctx context.Context, method, path string, body, out any, h Header) ([]byte, error) {
	if body == nil {
		body = map[string]any{}
	}
	r, err := c.Do(ctx, method, path, body, h)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	env, err := r.Envelope()
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := unmarshalData(env.Data, out); err != nil {
			return nil, err
		}
	}
	return env.Data, nil
}
