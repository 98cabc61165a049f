package core

import (
	"context"
	"crypto/subtle"
	"strings"

	"github.com/toolhost/toolhost/host/domain"
)

// Authenticator turns an API key, as a door received it, into the key's
// record: the bootstrap key (TOOLHOST_API_KEY), or a stored key. Every door
// that takes keys (HTTP, MCP) authenticates through one.
type Authenticator struct {
	Keys      KeyStore
	Bootstrap string // TOOLHOST_API_KEY; empty: none
}

// bootstrapKey is TOOLHOST_API_KEY's key: every scope.
var bootstrapKey = domain.BootstrapKey()

// Authenticate returns the key whose plaintext is key. A key that is not
// known is domain.ErrUnauthorized or domain.ErrNotFound (as the store
// says); anything else is the store failing.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (*domain.APIKey, error) {
	if b := a.Bootstrap; b != "" && subtle.ConstantTimeCompare([]byte(key), []byte(b)) == 1 {
		return bootstrapKey, nil
	}
	return a.Keys.Authenticate(ctx, key)
}

// KeyFrom picks the API key out of a request's x-api-key and Authorization
// header values: x-api-key wins, else "Bearer <key>". present is false when
// neither carries one.
func KeyFrom(xAPIKey, authorization string) (key string, present bool) {
	if k := strings.TrimSpace(xAPIKey); k != "" {
		return k, true
	}
	auth := strings.TrimSpace(authorization)
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		if k := strings.TrimSpace(auth[7:]); k != "" {
			return k, true
		}
	}
	return "", false
}
