package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxAnswer bounds how much of one answer the client reads.
const maxAnswer = 64 << 20

// Client talks to one toolhost server with one API key.
type Client struct {
	base      string // without a trailing slash
	key       string
	http      *http.Client
	userAgent string
}

// Option sets up a Client.
type Option func(*Client)

// WithHTTPClient sends requests with h (default: http.DefaultClient).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client for the server at baseURL ("http://host:port"; a
// bare "host:port" means http) that sends apiKey ("" sends none).
func New(baseURL, apiKey string, opts ...Option) *Client {
	base := strings.TrimRight(baseURL, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	c := &Client{base: base, key: apiKey, http: http.DefaultClient, userAgent: "toolhost-client"}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL is the server's address as the client uses it.
func (c *Client) BaseURL() string { return c.base }

// HasKey reports whether the client sends an API key.
func (c *Client) HasKey() bool { return c.key != "" }

// CloseIdleConnections releases the client's idle connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Response is an answer as it came: status, headers and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Envelope decodes the body as the API's envelope.
func (r *Response) Envelope() (*Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// Err is the answer's error: nil for a 2xx answer, else an *Error from
// the error envelope (or describing the answer when it is not one).
func (r *Response) Err() error {
	env, err := r.Envelope()
	ok := r.Status/100 == 2
	switch {
	case err != nil:
		if ok && json.Valid(r.Body) {
			return nil // a 2xx answer that is not an envelope (the OpenAI specs route)
		}
	case ok && env.Status != "error":
		return nil
	case env.Error != nil:
		e := env.Error
		e.Status = r.Status
		return e
	}
	return &Error{Status: r.Status, Message: unexpected(r.Status, r.Body)}
}

// Header pairs are extra headers for a request: name, value, name,
// value... A value of "" removes the header (say, the API key).
type Header []string

// Do sends a request and returns the answer whatever its status; only a
// failure to reach the server is an error. body is sent as it is when it
// is []byte or string, else encoded as JSON; nil sends none.
func (c *Client) Do(ctx context.Context, method, path string, body any, h Header) (*Response, error) {
	res, err := c.send(ctx, method, path, body, h)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, err
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: raw}, nil
}

// Call sends a request, checks the answer and decodes the envelope's data
// into out (when out is not nil). It returns the raw data; an error
// answer is an *Error.
func (c *Client) Call(ctx context.Context, method, path string, body, out any) (json.RawMessage, error) {
	r, err := c.Do(ctx, method, path, body, nil)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	data := json.RawMessage(r.Body)
	if env, err := r.Envelope(); err == nil && env.Status == "success" {
		data = env.Data
	}
	if out != nil && len(data) > 0 && string(data) != "null" {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from %s %s: %w", method, c.base+path, err)
		}
	}
	return data, nil
}

// Stream sends a request whose answer is read as it comes (Server-Sent
// Events). A non-2xx answer is an *Error; otherwise the caller reads and
// closes the body.
func (c *Client) Stream(ctx context.Context, method, path string, body any, h Header) (*http.Response, error) {
	res, err := c.send(ctx, method, path, body, h)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return nil, (&Response{Status: res.StatusCode, Header: res.Header, Body: raw}).Err()
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, method, path string, body any, h Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			rd = bytes.NewReader(b)
		case string:
			rd = strings.NewReader(b)
		default:
			raw, err := json.Marshal(body)
			if err != nil {
				return nil, fmt.Errorf("encoding the request: %w", err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("bad server address %q: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.key != "" {
		req.Header.Set("X-Api-Key", c.key)
	}
	for i := 0; i+1 < len(h); i += 2 {
		if h[i+1] == "" {
			req.Header.Del(h[i])
		} else {
			req.Header.Set(h[i], h[i+1])
		}
	}
	return c.http.Do(req)
}

func unexpected(status int, raw []byte) string {
	text := strings.TrimSpace(string(raw))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text == "" {
		return fmt.Sprintf("HTTP %d %s with an empty body", status, http.StatusText(status))
	}
	return fmt.Sprintf("HTTP %d %s (not a toolhost answer): %s", status, http.StatusText(status), text)
}

func unmarshalData(data json.RawMessage, out any) error {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	return json.Unmarshal(data, out)
}
