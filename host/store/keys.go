package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"go.etcd.io/bbolt"
)

// API key format: KeyPrefix + base64url (no padding) of keyRandomBytes
// random bytes, 192 bits. APIKey.Prefix keeps the first keyShownChars
// characters (36 of the random bits), leaving 156 bits unknown.
const (
	KeyPrefix      = "th_"
	keyRandomBytes = 24
	keyShownChars  = len(KeyPrefix) + 6
)

// keyUseInterval is how often LastUsedAt is written at most, per key.
const keyUseInterval = time.Minute

var keyNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// normalizeScopes checks scopes and puts them in Scopes order without
// repeats; none means all of them.
func normalizeScopes(scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return slices.Clone(domain.DefaultScopes), nil
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return nil, invalidf("scopes: unknown scope %q (known: %s)", s, strings.Join(Scopes, ", "))
		}
	}
	var out []string
	for _, s := range Scopes {
		if slices.Contains(scopes, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// CreateKey makes a new API key called name holding scopes (none: all of
// them) and returns its plaintext, which is shown once and never stored:
// only its SHA-256 digest is. A taken name gives ErrConflict.
func (ks Keys) CreateKey(ctx context.Context, name string, scopes ...string) (plaintext string, key *APIKey, err error) {
	plaintext, key, err = NewKey(name, scopes...)
	if err != nil {
		return "", nil, err
	}
	enc, err := json.Marshal(key)
	if err != nil {
		return "", nil, fmt.Errorf("encoding key: %w", err)
	}
	err = ks.db.update(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketKeys)
		if keys.Get([]byte(name)) != nil {
			return fmt.Errorf("key %q already exists: %w", name, ErrConflict)
		}
		if err := keys.Put([]byte(name), enc); err != nil {
			return err
		}
		return tx.Bucket(bucketKeyDigests).Put(key.Digest, []byte(name))
	})
	if err != nil {
		return "", nil, fmt.Errorf("creating key: %w", err)
	}
	return plaintext, key, nil
}

// NewKey checks name and scopes and makes a new key: its plaintext, shown
// once, and the record to store, which holds only its digest. It stores
// nothing: every backend's CreateKey starts with it.
func NewKey(name string, scopes ...string) (plaintext string, key *APIKey, err error) {
	if !keyNameRE.MatchString(name) {
		return "", nil, invalidf("key name must match %s, got %q", keyNameRE, name)
	}
	if name == domain.BootstrapKeyName {
		return "", nil, &wrapped{Msg: fmt.Sprintf("key name %q is the bootstrap key's (TOOLHOST_API_KEY); pick another", name), Err: ErrConflict}
	}
	scopes, err = normalizeScopes(scopes)
	if err != nil {
		return "", nil, err
	}
	raw := make([]byte, keyRandomBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("creating key: %w", err)
	}
	plaintext = KeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	digest := sha256.Sum256([]byte(plaintext))
	key = &APIKey{
		ID:        domain.NewID(domain.KeyIDPrefix),
		Name:      name,
		Prefix:    plaintext[:keyShownChars],
		Digest:    digest[:],
		Scopes:    scopes,
		CreatedAt: time.Now().UTC(),
	}
	return plaintext, key, nil
}

// KeyDigest returns the digest a stored key has for plaintext, and false
// when plaintext cannot be a key (Authenticate then refuses it at once).
func KeyDigest(plaintext string) ([]byte, bool) {
	if !strings.HasPrefix(plaintext, KeyPrefix) || len(plaintext) > 256 {
		return nil, false
	}
	d := sha256.Sum256([]byte(plaintext))
	return d[:], true
}

// ListKeys returns every key, by name.
func (ks Keys) ListKeys(ctx context.Context) ([]*APIKey, error) {
	var keys []*APIKey
	err := ks.db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketKeys).ForEach(func(k, v []byte) error {
			key, err := decodeKey(k, v)
			keys = append(keys, key)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return keys, nil
}

// CountKeys returns how many keys exist.
func (ks Keys) CountKeys(ctx context.Context) (int, error) {
	n := 0
	err := ks.db.view(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketKeys).Stats().KeyN
		return nil
	})
	return n, err
}

// RevokeKey deletes the key called name; ErrNotFound when there is none.
func (ks Keys) RevokeKey(ctx context.Context, name string) error {
	err := ks.db.update(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketKeys)
		v := keys.Get([]byte(name))
		if v == nil {
			return fmt.Errorf("key %q: %w", name, ErrNotFound)
		}
		key, err := decodeKey([]byte(name), v)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketKeyDigests).Delete(key.Digest); err != nil {
			return err
		}
		return keys.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("revoking key: %w", err)
	}
	ks.db.keyUse.Forget(name)
	return nil
}

// Authenticate returns the key whose plaintext this is, or ErrUnauthorized.
// It reads only: LastUsedAt is written in the background, at most once a
// minute per key, so authenticating costs no fsync.
func (ks Keys) Authenticate(ctx context.Context, plaintext string) (*APIKey, error) {
	digest, ok := KeyDigest(plaintext)
	if !ok {
		return nil, ErrUnauthorized
	}
	var key *APIKey
	err := ks.db.view(func(tx *bbolt.Tx) error {
		name := tx.Bucket(bucketKeyDigests).Get(digest)
		if name == nil {
			return ErrUnauthorized
		}
		v := tx.Bucket(bucketKeys).Get(name)
		if v == nil {
			return ErrUnauthorized
		}
		var err error
		key, err = decodeKey(name, v)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(key.Digest, digest) != 1 {
			return ErrUnauthorized
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	if ks.db.keyUse.Due(key.Name, now) {
		ks.db.background(func() { ks.db.touchKey(key.Name, key.Digest, now) })
		key.LastUsedAt = &now
	}
	return key, nil
}

// touchKey writes LastUsedAt for the key (if it still is the same key).
func (db *DB) touchKey(name string, digest []byte, at time.Time) {
	_ = db.batch(func(tx *bbolt.Tx) error {
		keys := tx.Bucket(bucketKeys)
		v := keys.Get([]byte(name))
		if v == nil {
			return nil
		}
		key, err := decodeKey([]byte(name), v)
		if err != nil || subtle.ConstantTimeCompare(key.Digest, digest) != 1 {
			return reject(err)
		}
		if key.LastUsedAt != nil && !at.After(*key.LastUsedAt) {
			return nil
		}
		key.LastUsedAt = &at
		enc, err := json.Marshal(key)
		if err != nil {
			return reject(err)
		}
		return keys.Put([]byte(name), enc)
	})
}

func decodeKey(name, v []byte) (*APIKey, error) {
	key := new(APIKey)
	if err := json.Unmarshal(v, key); err != nil {
		return nil, fmt.Errorf("decoding key %q: %w", name, err)
	}
	return key, nil
}

// KeyUseThrottle remembers when each key's use was last written, so that
// LastUsedAt is written at most once a minute per key. The zero value is
// ready to use.
type KeyUseThrottle struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// Due reports whether name's use should be written now, and if so notes it.
func (t *KeyUseThrottle) Due(name string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[name]; ok && now.Sub(last) < keyUseInterval {
		return false
	}
	if t.last == nil {
		t.last = make(map[string]time.Time)
	}
	t.last[name] = now
	return true
}

// Forget drops what is remembered of name (a revoked key).
func (t *KeyUseThrottle) Forget(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.last, name)
}
