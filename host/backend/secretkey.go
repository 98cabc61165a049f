package backend

import (
	"fmt"
	"strings"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/store"
)

// LoadSecretKey returns the key that seals secret plugin config values.
// On bbolt it is store.LoadSecretKey's (TOOLHOST_SECRET_KEY, else the key
// file in the data directory, made on first use). On PostgreSQL every
// replica must seal and open with the same key, and a key file made by
// one replica would not be the others': the key must come from
// TOOLHOST_SECRET_KEY.
func LoadSecretKey(s config.Store, dataDir string, getenv func(string) string) ([]byte, error) {
	if s.Backend == config.BackendPostgres && strings.TrimSpace(getenv(store.SecretKeyEnv)) == "" {
		return nil, fmt.Errorf("store backend %q: set %s to the secret key, the same on every replica "+
			"(32 bytes as 64 hex digits or base64, e.g. from `openssl rand -hex 32`; after `toolhost db copy`, "+
			"the contents of the old data directory's %s): it seals secret plugin config before it reaches the database",
			config.BackendPostgres, store.SecretKeyEnv, store.SecretKeyFile)
	}
	return store.LoadSecretKey(dataDir, getenv)
}
