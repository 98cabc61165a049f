package client

import (
	"context"
	"net/http"
	"net/url"
)

// CreateKey makes an API key (admin scope); the answer's Key is the
// plaintext, shown this once.
func (c *Client) CreateKey(ctx context.Context, name string, scopes ...string) (*Key, error) {
	var k Key
	body := map[string]any{"name": name}
	if len(scopes) > 0 {
		body["scopes"] = scopes
	}
	if _, err := c.Call(ctx, http.MethodPost, "/v1/admin/keys", body, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// ListKeys lists the stored API keys (never their plaintext).
func (c *Client) ListKeys(ctx context.Context) ([]Key, error) {
	var ks []Key
	_, err := c.Call(ctx, http.MethodGet, "/v1/admin/keys", nil, &ks)
	return ks, err
}

// RevokeKey deletes the key called name.
func (c *Client) RevokeKey(ctx context.Context, name string) error {
	_, err := c.Call(ctx, http.MethodDelete, "/v1/admin/keys/"+url.PathEscape(name), nil, nil)
	return err
}
