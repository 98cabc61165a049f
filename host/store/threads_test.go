package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

func TestDeleteHugeThread(t *testing.T) {
	db := openDB(t, "")
	th := &store.Thread{}
	if err := db.Threads().CreateThread(context.Background(), th, nil); err != nil {
		t.Fatal(err)
	}
	const n = 25000 // more than one deletion transaction
	msgs := make([]*store.Message, n)
	for i := range msgs {
		msgs[i] = &store.Message{Role: "user", Content: "m"}
	}
	if err := db.Threads().AddMessages(context.Background(), th.ID, msgs...); err != nil {
		t.Fatal(err)
	}
	if err := db.Threads().DeleteThread(context.Background(), th.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Threads().GetMessage(context.Background(), th.ID, msgs[n-1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("last message survived: %v", err)
	}
}
