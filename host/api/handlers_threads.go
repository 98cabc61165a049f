package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/domain"
)

func (s *server) createThread(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Messages []messageIn                `json:"messages"`
	}
	if err := decodeObject(r, &in, true, `such as {"metadata":{...},"messages":[{"role":"user","content":"..."}]}`); err != nil {
		s.fail(w, r, err)
		return
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var msgs []*domain.Message
	for i, m := range in.Messages {
		msg, err := m.message("messages[" + strconv.Itoa(i) + "].")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msgs = append(msgs, msg)
	}
	t := &domain.Thread{Metadata: md, KeyID: callerOf(r).KeyID}
	if err := s.threads.CreateThread(r.Context(), t, msgs); err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) listThreads(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	owner := ""
	if c := callerOf(r); !c.SeesAll() {
		owner = c.KeyID
	}
	threads, more, err := s.threads.ListThreads(r.Context(), owner, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := listView[assistant.ThreadView]{List: []assistant.ThreadView{}, HasMore: more}
	for _, t := range threads {
		out.List = append(out.List, assistant.ViewThread(t))
	}
	ok(w, http.StatusOK, out)
}

// thread loads the thread named in the path; unknown is a 404.
func (s *server) thread(r *http.Request) (*domain.Thread, error) {
	id := mux.Vars(r)["threadId"]
	t, err := s.threads.GetThread(r.Context(), id)
	if err != nil {
		return nil, threadErr(err, id)
	}
	if !callerOf(r).Owns(t.KeyID) {
		// Another key's thread is not found, as if it did not exist.
		return nil, threadErr(fmt.Errorf("thread %s: %w", id, domain.ErrNotFound), id)
	}
	return t, nil
}

func threadErr(err error, id string) error {
	if domain.ErrorCode(err) == domain.CodeInternal && toFault(err).Code == domain.CodeNotFound {
		return domain.WrapError(err, domain.CodeNotFound, "thread %s not found", id)
	}
	return err
}

func (s *server) getThread(w http.ResponseWriter, r *http.Request) {
	t, err := s.thread(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) updateThread(w http.ResponseWriter, r *http.Request) {
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if err := decodeObject(r, &in, false, `such as {"metadata":{"key":"value"}}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Metadata == nil {
		s.fail(w, r, fieldErr("metadata", "is required: the thread's new metadata (an object of strings; {} clears it)"))
		return
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := mux.Vars(r)["threadId"]
	t, err := s.threads.UpdateThreadMetadata(r.Context(), id, md)
	if err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) deleteThread(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.threads.DeleteThread(r.Context(), id); err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "object": "thread.deleted", "deleted": true})
}

func (s *server) createMessage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in messageIn
	if err := decodeObject(r, &in, false, `such as {"role":"user","content":"..."}`); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := in.message("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.threads.AddMessages(r.Context(), id, m); err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, assistant.ViewMessage(m))
}

func (s *server) listMessages(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs, more, err := s.threads.ListMessages(r.Context(), id, page)
	if err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	out := listView[assistant.MessageView]{List: []assistant.MessageView{}, HasMore: more}
	for _, m := range msgs {
		out.List = append(out.List, assistant.ViewMessage(m))
	}
	ok(w, http.StatusOK, out)
}

func (s *server) getMessage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.threads.GetMessage(r.Context(), v["threadId"], v["messageId"])
	if err != nil {
		if toFault(err).Code == domain.CodeNotFound {
			err = domain.WrapError(err, domain.CodeNotFound, "message %s not found in thread %s", v["messageId"], v["threadId"])
		}
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewMessage(m))
}
