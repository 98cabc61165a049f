package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
)

func msgIDs(ms []*domain.Message) []string {
	return ids(ms, func(m *domain.Message) string { return m.ID })
}

func ThreadsAndMessages(t *testing.T, h Harness) {
	s := h.open(t)
	th := &domain.Thread{Metadata: map[string]string{"user": "ann"}}
	first := []*domain.Message{{Role: "user", Content: "hello"}, {Role: "assistant", Content: "hi"}}
	if err := s.Threads().CreateThread(bg, th, first); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(th.ID, domain.ThreadPrefix) || first[0].ThreadID != th.ID || first[1].ID <= first[0].ID {
		t.Fatalf("ids not filled: %+v %+v", th, first)
	}
	other := &domain.Thread{}
	if err := s.Threads().CreateThread(bg, other, nil); err != nil {
		t.Fatal(err)
	}
	if other.Metadata == nil {
		t.Error("metadata should default to an empty map")
	}

	got, err := s.Threads().GetThread(bg, th.ID)
	if err != nil || got.Metadata["user"] != "ann" {
		t.Fatalf("GetThread = %+v, %v", got, err)
	}
	if err := s.Threads().CreateThread(bg, &domain.Thread{ID: th.ID}, nil); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("CreateThread(same id) = %v", err)
	}

	var added []*domain.Message
	for i := range 30 {
		added = append(added, &domain.Message{Role: "user", Content: fmt.Sprint(i)})
	}
	if err := s.Threads().AddMessages(bg, th.ID, added...); err != nil {
		t.Fatal(err)
	}
	all := append(msgIDs(first), msgIDs(added)...)
	if err := s.Threads().AddMessages(bg, other.ID, &domain.Message{Role: "user", Content: "elsewhere"}); err != nil {
		t.Fatal(err)
	}

	t.Run("list messages", func(t *testing.T) {
		msgs, more, err := s.Threads().ListMessages(bg, th.ID, domain.Page{})
		if err != nil || len(msgs) != 20 || !more || msgs[0].ID != all[31] {
			t.Fatalf("default page: %d msgs more=%v err=%v", len(msgs), more, err)
		}
		msgs, more, err = s.Threads().ListMessages(bg, th.ID, domain.Page{Order: "asc", Limit: 100})
		if err != nil || more || !sameStrings(msgIDs(msgs), all) {
			t.Errorf("asc all: %v %v %v", msgIDs(msgs), more, err)
		}
		for i := 0; i < 20; i++ {
			p := domain.Page{Limit: 1 + i%7, Order: []string{"asc", "desc"}[i%2], After: all[i], Before: all[(i+13)%len(all)]}
			if i%3 == 0 {
				p.After = ""
			}
			want, wantMore := refPage(all, p)
			msgs, more, err := s.Threads().ListMessages(bg, th.ID, p)
			if err != nil || !sameStrings(msgIDs(msgs), want) || more != wantMore {
				t.Errorf("%+v: %v %v, want %v %v (%v)", p, msgIDs(msgs), more, want, wantMore, err)
			}
		}
		m, err := s.Threads().GetMessage(bg, th.ID, all[5])
		if err != nil || m.Content != "3" {
			t.Errorf("GetMessage = %+v, %v", m, err)
		}
		if _, err := s.Threads().GetMessage(bg, other.ID, all[5]); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("GetMessage(wrong thread) = %v", err)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		up, err := s.Threads().UpdateThreadMetadata(bg, th.ID, map[string]string{"topic": "x"})
		if err != nil || len(up.Metadata) != 1 || up.Metadata["topic"] != "x" {
			t.Fatalf("Update = %+v, %v", up, err)
		}
		tooMany := map[string]string{}
		for i := range 17 {
			tooMany[fmt.Sprint(i)] = "v"
		}
		for _, md := range []map[string]string{tooMany, {strings.Repeat("k", 65): "v"}, {"k": strings.Repeat("v", 513)}} {
			if _, err := s.Threads().UpdateThreadMetadata(bg, th.ID, md); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("bad metadata accepted: %v", err)
			}
		}
		if _, err := s.Threads().UpdateThreadMetadata(bg, "thread_missing", nil); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("Update(missing) = %v", err)
		}
	})

	t.Run("list threads", func(t *testing.T) {
		ts, more, err := s.Threads().ListThreads(bg, "", domain.Page{Order: "asc"})
		if err != nil || more || !sameStrings(ids(ts, func(t *domain.Thread) string { return t.ID }), []string{th.ID, other.ID}) {
			t.Errorf("ListThreads = %v %v %v", ts, more, err)
		}
		ts, more, _ = s.Threads().ListThreads(bg, "", domain.Page{Limit: 1})
		if len(ts) != 1 || ts[0].ID != other.ID || !more {
			t.Errorf("newest thread first: %v %v", ts, more)
		}
	})

	t.Run("delete cascades", func(t *testing.T) {
		if err := s.Threads().DeleteThread(bg, th.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Threads().GetThread(bg, th.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("GetThread(deleted) = %v", err)
		}
		if _, _, err := s.Threads().ListMessages(bg, th.ID, domain.Page{}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("ListMessages(deleted) = %v", err)
		}
		if _, err := s.Threads().GetMessage(bg, th.ID, all[0]); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("message of a deleted thread still there: %v", err)
		}
		if err := s.Threads().AddMessages(bg, th.ID, &domain.Message{Role: "user"}); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("AddMessages(deleted) = %v", err)
		}
		if err := s.Threads().DeleteThread(bg, th.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("DeleteThread(again) = %v", err)
		}
		msgs, _, err := s.Threads().ListMessages(bg, other.ID, domain.Page{})
		if err != nil || len(msgs) != 1 {
			t.Errorf("the other thread lost messages: %v %v", msgs, err)
		}
	})
}

func MessageValidation(t *testing.T, h Harness) {
	s := h.open(t)
	th := &domain.Thread{}
	if err := s.Threads().CreateThread(bg, th, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Threads().AddMessages(bg, th.ID, &domain.Message{}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("message without role = %v", err)
	}
	if err := s.Threads().AddMessages(bg, th.ID, &domain.Message{Role: "user", ThreadID: "thread_other"}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("message of another thread = %v", err)
	}
	if err := s.Threads().CreateThread(bg, &domain.Thread{ID: "thread_1"}, nil); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("thread id not a ULID = %v", err)
	}
}
