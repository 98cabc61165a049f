package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretKeyEnv is the environment variable LoadSecretKey reads first.
const SecretKeyEnv = "TOOLHOST_SECRET_KEY"

// SecretKeyFile is the key file LoadSecretKey uses in the data directory
// when SecretKeyEnv is not set.
const SecretKeyFile = "secret.key"

// SecretKeySize is the size of the AES-256 key.
const SecretKeySize = 32

// LoadSecretKey returns the key that seals secret plugin config values:
// SecretKeyEnv when set (32 bytes, base64 or hex), else the key in
// dir/secret.key, which is created with 32 random bytes (as hex) and mode
// 0600 on first use. A key file readable by others is refused.
func LoadSecretKey(dir string, getenv func(string) string) ([]byte, error) {
	if v := strings.TrimSpace(getenv(SecretKeyEnv)); v != "" {
		key, err := parseSecretKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SecretKeyEnv, err)
		}
		return key, nil
	}
	path := filepath.Join(dir, SecretKeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(dir, path)
	}
	return key, err
}

// parseSecretKey decodes 32 bytes written as hex or base64 (standard or URL
// alphabet, with or without padding). Its errors never quote the text.
func parseSecretKey(s string) ([]byte, error) {
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	}
	for _, decode := range decoders {
		if key, err := decode(s); err == nil && len(key) == SecretKeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("want %d bytes written as 64 hex digits or base64 (%d characters were given, not a valid encoding of %d bytes)",
		SecretKeySize, len(s), SecretKeySize)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading secret key file %s: %w", path, err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %04o, readable by others: want 0600 (chmod 600 %s)", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("reading secret key file %s: %w", path, err)
	}
	key, err := parseSecretKey(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

func createKeyFile(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	key := make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("creating secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path) // made by someone else meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("creating secret key file %s: %w", path, err)
	}
	_, err = f.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing secret key file %s: %w", path, err)
	}
	return key, nil
}

// Sealer seals and opens secret plugin config values with the secret
// key. Every backend of the store uses it, so a value sealed by one opens
// with the other and no database sees it in plaintext.
type Sealer struct {
	aead cipher.AEAD // nil without a key
}

// NewSealer returns the Sealer for a SecretKeySize-byte key; with a nil
// key it seals nothing, and sealing or opening fails with ErrSecretKey.
func NewSealer(key []byte) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", SecretKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("setting up secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealingAD is the additional data that binds a sealed value to its place.
func sealingAD(plugin, key string) []byte {
	return []byte("toolhost plugin config\x00" + plugin + "\x00" + key)
}

// seal encrypts a config value of plugin under key: nonce || ciphertext.
func (s *Sealer) seal(plugin, key, value string) ([]byte, error) {
	if s.aead == nil {
		return nil, fmt.Errorf("sealing config %q of plugin %q: no secret key configured: %w", key, plugin, ErrSecretKey)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealing config %q of plugin %q: %w", key, plugin, err)
	}
	return s.aead.Seal(nonce, nonce, []byte(value), sealingAD(plugin, key)), nil
}

// open decrypts what seal made.
func (s *Sealer) open(plugin, key string, sealed []byte) (string, error) {
	if s.aead == nil {
		return "", fmt.Errorf("reading config %q of plugin %q: it is sealed and no secret key is configured: %w", key, plugin, ErrSecretKey)
	}
	ns := s.aead.NonceSize()
	if len(sealed) < ns {
		return "", fmt.Errorf("reading config %q of plugin %q: sealed value too short: %w", key, plugin, ErrSecretKey)
	}
	plain, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], sealingAD(plugin, key))
	if err != nil {
		return "", &wrapped{
			Msg: fmt.Sprintf("reading config %q of plugin %q: cannot decrypt it: the secret key (%s or %s) is not the one it was sealed with, or the data is damaged", key, plugin, SecretKeyEnv, SecretKeyFile),
			Err: ErrSecretKey,
		}
	}
	return string(plain), nil
}
