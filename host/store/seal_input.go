package store

import (
	"crypto/rand"
	"fmt"
)

// inputAD binds a sealed run input to its run, so that a sealed value
// moved to another run does not open.
func inputAD(runID string) []byte { return []byte("toolhost run input\x00" + runID) }

// SealInput encrypts the input of a queued run (as its plugin is to get
// it, secrets intact) for a shared queue: nonce || ciphertext.
func (s *Sealer) SealInput(runID string, input []byte) ([]byte, error) {
	if s.aead == nil {
		return nil, fmt.Errorf("sealing the input of run %s: no secret key configured: %w", runID, ErrSecretKey)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(input)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealing the input of run %s: %w", runID, err)
	}
	return s.aead.Seal(nonce, nonce, input, inputAD(runID)), nil
}

// OpenInput decrypts what SealInput made for runID.
func (s *Sealer) OpenInput(runID string, sealed []byte) ([]byte, error) {
	if s.aead == nil {
		return nil, fmt.Errorf("opening the input of run %s: no secret key configured: %w", runID, ErrSecretKey)
	}
	ns := s.aead.NonceSize()
	if len(sealed) < ns+s.aead.Overhead() {
		return nil, fmt.Errorf("opening the input of run %s: sealed input too short: %w", runID, ErrSecretKey)
	}
	plain, err := s.aead.Open(nil, sealed[:ns], sealed[ns:], inputAD(runID))
	if err != nil {
		return nil, &wrapped{
			Msg: fmt.Sprintf("opening the input of run %s: cannot decrypt it: the replica that queued it has another secret key (%s or %s), or the data is damaged", runID, SecretKeyEnv, SecretKeyFile),
			Err: ErrSecretKey,
		}
	}
	return plain, nil
}
