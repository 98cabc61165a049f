package store_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

// TestSealInput seals a run input: it opens with the same key and run,
// and not with another run's id, another key, a cut value or no key.
func TestSealInput(t *testing.T) {
	key := bytes.Repeat([]byte{7}, store.SecretKeySize)
	s, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"password":"hunter2"}`)
	sealed, err := s.SealInput("run_1", in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the sealed input holds the secret in the clear")
	}
	if got, err := s.OpenInput("run_1", sealed); err != nil || !bytes.Equal(got, in) {
		t.Fatalf("OpenInput = %q, %v", got, err)
	}
	other, _ := store.NewSealer(bytes.Repeat([]byte{8}, store.SecretKeySize))
	none, _ := store.NewSealer(nil)
	for _, tc := range []struct {
		name   string
		s      *store.Sealer
		run    string
		sealed []byte
	}{
		{"another run", s, "run_2", sealed},
		{"another key", other, "run_1", sealed},
		{"cut", s, "run_1", sealed[:10]},
		{"no key", none, "run_1", sealed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.OpenInput(tc.run, tc.sealed)
			if !errors.Is(err, store.ErrSecretKey) || !bytes.Contains([]byte(err.Error()), []byte("input of run "+tc.run)) {
				t.Fatalf("OpenInput = %v, want ErrSecretKey naming the run", err)
			}
		})
	}
	if _, err := none.SealInput("run_1", in); !errors.Is(err, store.ErrSecretKey) {
		t.Fatalf("SealInput without a key = %v", err)
	}
}
