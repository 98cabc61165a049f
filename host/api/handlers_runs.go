package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host/domain"
)

func (s *server) listRuns(w http.ResponseWriter, r *http.Request) {
	f, err := s.runFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.runner.ListRunsPage(r.Context(), callerOf(r), f, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := listView[runView]{List: []runView{}, HasMore: pg.HasMore, Damaged: len(pg.Damaged), DamagedIDs: pg.Damaged}
	for _, run := range pg.Runs {
		out.List = append(out.List, viewRun(run, false))
	}
	ok(w, http.StatusOK, out)
}

func (s *server) runFilter(r *http.Request) (domain.RunFilter, error) {
	q := r.URL.Query()
	f := domain.RunFilter{ActionID: q.Get("action_id"), PluginID: q.Get("plugin_id"), Status: q.Get("status"), ThreadID: q.Get("thread_id")}
	cat := s.runner.Catalog()
	if a := cat.Action(f.ActionID); a != nil {
		f.ActionID = a.ID
	}
	if p := cat.Plugin(f.PluginID); p != nil {
		f.PluginID = p.ID
	}
	if f.Status != "" && !domain.ValidStatus(f.Status) {
		return f, fieldErr("status", "must be one of "+strings.Join(domain.Statuses(), ", "))
	}
	var err error
	if f.From, err = timeParam(q.Get("created_after"), "created_after"); err != nil {
		return f, err
	}
	if f.To, err = timeParam(q.Get("created_before"), "created_before"); err != nil {
		return f, err
	}
	return f, nil
}

// timeParam accepts RFC 3339 or unix seconds.
func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fieldErr(name, "must be an RFC 3339 time or unix seconds")
	}
	return t, nil
}

// parsePage reads limit, order, after and before.
func parsePage(r *http.Request) (domain.Page, error) {
	q := r.URL.Query()
	p := domain.Page{Order: q.Get("order"), After: q.Get("after"), Before: q.Get("before")}
	if err := errors.Join(checkCursor("after", p.After), checkCursor("before", p.Before)); err != nil {
		return p, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, fieldErr("limit", "must be an integer from 1 to 100")
		}
		p.Limit = n
	}
	if p.Order != "" && p.Order != "asc" && p.Order != "desc" {
		return p, fieldErr("order", "must be asc or desc")
	}
	return p, nil
}

func fieldErr(field, msg string) error {
	return &domain.Error{Code: domain.CodeInvalidRequest, Message: field + " " + msg,
		Fields: []domain.FieldError{{Field: field, Message: msg}}}
}

func (s *server) getRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.runner.Owned(r.Context(), callerOf(r), mux.Vars(r)["runId"])
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, viewRun(run, true))
}

func (s *server) cancelRun(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["runId"]
	if _, err := s.runner.Owned(r.Context(), callerOf(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.runner.Cancel(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, viewRun(run, false))
}

// runEvents replays a run's events and follows it; Last-Event-ID (or
// ?after=) resumes after that event.
func (s *server) runEvents(w http.ResponseWriter, r *http.Request) {
	after := 0
	v := r.Header.Get("Last-Event-ID")
	if q := r.URL.Query().Get("after"); q != "" {
		v = q
	}
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, r, fieldErr("Last-Event-ID", "must be a non-negative event number"))
			return
		}
		after = n
	}
	id := mux.Vars(r)["runId"]
	if _, err := s.runner.Owned(r.Context(), callerOf(r), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.streamRun(w, r, id, after, nil)
}
