package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

func msgIDs(ms []*store.Message) []string {
	return ids(ms, func(m *store.Message) string { return m.ID })
}

func TestThreadsAndMessages(t *testing.T) {
	db := openDB(t, "")
	th := &store.Thread{Metadata: map[string]string{"user": "ann"}}
	first := []*store.Message{{Role: "user", Content: "hello"}, {Role: "assistant", Content: "hi"}}
	if err := db.Threads().CreateThread(context.Background(), th, first); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(th.ID, store.ThreadPrefix) || first[0].ThreadID != th.ID || first[1].ID <= first[0].ID {
		t.Fatalf("ids not filled: %+v %+v", th, first)
	}
	other := &store.Thread{}
	if err := db.Threads().CreateThread(context.Background(), other, nil); err != nil {
		t.Fatal(err)
	}
	if other.Metadata == nil {
		t.Error("metadata should default to an empty map")
	}

	got, err := db.Threads().GetThread(context.Background(), th.ID)
	if err != nil || got.Metadata["user"] != "ann" {
		t.Fatalf("GetThread = %+v, %v", got, err)
	}
	if err := db.Threads().CreateThread(context.Background(), &store.Thread{ID: th.ID}, nil); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateThread(same id) = %v", err)
	}

	var added []*store.Message
	for i := range 30 {
		added = append(added, &store.Message{Role: "user", Content: fmt.Sprint(i)})
	}
	if err := db.Threads().AddMessages(context.Background(), th.ID, added...); err != nil {
		t.Fatal(err)
	}
	all := append(msgIDs(first), msgIDs(added)...)
	if err := db.Threads().AddMessages(context.Background(), other.ID, &store.Message{Role: "user", Content: "elsewhere"}); err != nil {
		t.Fatal(err)
	}

	t.Run("list messages", func(t *testing.T) {
		msgs, more, err := db.Threads().ListMessages(context.Background(), th.ID, store.Page{})
		if err != nil || len(msgs) != 20 || !more || msgs[0].ID != all[31] {
			t.Fatalf("default page: %d msgs more=%v err=%v", len(msgs), more, err)
		}
		msgs, more, err = db.Threads().ListMessages(context.Background(), th.ID, store.Page{Order: "asc", Limit: 100})
		if err != nil || more || !sameStrings(msgIDs(msgs), all) {
			t.Errorf("asc all: %v %v %v", msgIDs(msgs), more, err)
		}
		for i := 0; i < 20; i++ {
			p := store.Page{Limit: 1 + i%7, Order: []string{"asc", "desc"}[i%2], After: all[i], Before: all[(i+13)%len(all)]}
			if i%3 == 0 {
				p.After = ""
			}
			want, wantMore := refPage(all, p)
			msgs, more, err := db.Threads().ListMessages(context.Background(), th.ID, p)
			if err != nil || !sameStrings(msgIDs(msgs), want) || more != wantMore {
				t.Errorf("%+v: %v %v, want %v %v (%v)", p, msgIDs(msgs), more, want, wantMore, err)
			}
		}
		m, err := db.Threads().GetMessage(context.Background(), th.ID, all[5])
		if err != nil || m.Content != "3" {
			t.Errorf("GetMessage = %+v, %v", m, err)
		}
		if _, err := db.Threads().GetMessage(context.Background(), other.ID, all[5]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMessage(wrong thread) = %v", err)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		up, err := db.Threads().UpdateThreadMetadata(context.Background(), th.ID, map[string]string{"topic": "x"})
		if err != nil || len(up.Metadata) != 1 || up.Metadata["topic"] != "x" {
			t.Fatalf("Update = %+v, %v", up, err)
		}
		tooMany := map[string]string{}
		for i := range 17 {
			tooMany[fmt.Sprint(i)] = "v"
		}
		for _, md := range []map[string]string{tooMany, {strings.Repeat("k", 65): "v"}, {"k": strings.Repeat("v", 513)}} {
			if _, err := db.Threads().UpdateThreadMetadata(context.Background(), th.ID, md); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("bad metadata accepted: %v", err)
			}
		}
		if _, err := db.Threads().UpdateThreadMetadata(context.Background(), "thread_missing", nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update(missing) = %v", err)
		}
	})

	t.Run("list threads", func(t *testing.T) {
		ts, more, err := db.Threads().ListThreads(context.Background(), "", store.Page{Order: "asc"})
		if err != nil || more || !sameStrings(ids(ts, func(t *store.Thread) string { return t.ID }), []string{th.ID, other.ID}) {
			t.Errorf("ListThreads = %v %v %v", ts, more, err)
		}
		ts, more, _ = db.Threads().ListThreads(context.Background(), "", store.Page{Limit: 1})
		if len(ts) != 1 || ts[0].ID != other.ID || !more {
			t.Errorf("newest thread first: %v %v", ts, more)
		}
	})

	t.Run("delete cascades", func(t *testing.T) {
		if err := db.Threads().DeleteThread(context.Background(), th.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Threads().GetThread(context.Background(), th.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetThread(deleted) = %v", err)
		}
		if _, _, err := db.Threads().ListMessages(context.Background(), th.ID, store.Page{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ListMessages(deleted) = %v", err)
		}
		if _, err := db.Threads().GetMessage(context.Background(), th.ID, all[0]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message of a deleted thread still there: %v", err)
		}
		if err := db.Threads().AddMessages(context.Background(), th.ID, &store.Message{Role: "user"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AddMessages(deleted) = %v", err)
		}
		if err := db.Threads().DeleteThread(context.Background(), th.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteThread(again) = %v", err)
		}
		msgs, _, err := db.Threads().ListMessages(context.Background(), other.ID, store.Page{})
		if err != nil || len(msgs) != 1 {
			t.Errorf("the other thread lost messages: %v %v", msgs, err)
		}
	})
}

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

func TestMessageValidation(t *testing.T) {
	db := openDB(t, "")
	th := &store.Thread{}
	if err := db.Threads().CreateThread(context.Background(), th, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Threads().AddMessages(context.Background(), th.ID, &store.Message{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("message without role = %v", err)
	}
	if err := db.Threads().AddMessages(context.Background(), th.ID, &store.Message{Role: "user", ThreadID: "thread_other"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("message of another thread = %v", err)
	}
	if err := db.Threads().CreateThread(context.Background(), &store.Thread{ID: "thread_1"}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("thread id not a ULID = %v", err)
	}
}
