package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// MaxIdempotencyKey bounds an idempotency key's length.
const MaxIdempotencyKey = 255

// idempotency is the core's use of the IdempotencyStore: every call to it
// is in this file. A key is scoped by the caller's identity (never its
// name), so two keys never see each other's runs.
type idempotency struct {
	store IdempotencyStore
	r     *Runner
}

// ticket is a claimed key (or none), to link to the run the call makes,
// or to give up when it makes none.
type ticket struct {
	i      *idempotency
	scoped string // "" without a key
}

// claim applies c's idempotency key, if any. For a new key it returns a
// ticket; for a key already used by this caller it returns the first
// call's run (Replayed) or a conflict. digest is what identifies the
// request; it is computed only when there is a key.
func (i *idempotency) claim(ctx context.Context, c Call, mode Mode, digest func() []byte) (ticket, Result, error) {
	if c.IdempotencyKey == "" || i.store == nil {
		return ticket{}, Result{}, nil
	}
	if len(c.IdempotencyKey) > MaxIdempotencyKey {
		return ticket{}, Result{}, domain.FieldErrorf(domain.CodeInvalidRequest, "Idempotency-Key", "too long",
			"Idempotency-Key is longer than %d characters", MaxIdempotencyKey)
	}
	if c.Caller.KeyID == "" {
		return ticket{}, Result{}, domain.Errorf(domain.CodeInternal, "an idempotent call needs the caller's key id")
	}
	d := digest()
	t := ticket{i: i, scoped: c.Caller.KeyID + "\x00" + c.IdempotencyKey}
	existing, err := i.store.BeginIdempotent(ctx, &domain.IdempotencyRecord{
		Key: t.scoped, BodyDigest: d, Mode: mode.String(), CreatedAt: time.Now().UTC()})
	if err != nil {
		return ticket{}, Result{}, storeError(err, "check the idempotency key")
	}
	if existing == nil {
		return t, Result{}, nil
	}
	res, err := i.replay(ctx, existing, d)
	return ticket{}, res, err
}

// replay answers a call whose key was used before: the first call's run,
// once there is one to show.
func (i *idempotency) replay(ctx context.Context, rec *domain.IdempotencyRecord, digest []byte) (Result, error) {
	if !bytes.Equal(rec.BodyDigest, digest) {
		return Result{}, domain.Errorf(domain.CodeConflict, "Idempotency-Key was already used with a different request body")
	}
	if rec.RunID == "" {
		if rec.Status != 0 {
			return Result{}, domain.Errorf(domain.CodeConflict, "Idempotency-Key was used by a request an earlier toolhost version answered; use a new key")
		}
		return Result{}, domain.Errorf(domain.CodeConflict, "a request with this Idempotency-Key is still in progress")
	}
	run, err := i.r.Get(ctx, rec.RunID)
	if errors.Is(err, domain.ErrNotFound) {
		return Result{}, domain.Errorf(domain.CodeConflict,
			"the run made for this Idempotency-Key (%s) was not recorded: the host stopped while it ran; use a new key", rec.RunID)
	}
	if err != nil {
		return Result{}, err
	}
	first := ModeBlocking
	switch rec.Mode {
	case ModeBackground.String():
		first = ModeBackground
	case ModeStream.String():
		first = ModeStream
	}
	if first != ModeBackground && !domain.IsTerminal(run.Status) && run.Status != domain.StatusRequiresAction {
		return Result{}, domain.Errorf(domain.CodeConflict, "a request with this Idempotency-Key is still in progress")
	}
	if first == ModeStream {
		first = ModeBlocking // a streamed answer is replayed as the run's final answer
	}
	return Result{Run: run, Mode: first, Replayed: true}, nil
}

// link records the run the call made under its key.
func (t ticket) link(ctx context.Context, runID string) error {
	if t.scoped == "" {
		return nil
	}
	if err := t.i.store.FinishIdempotent(ctx, t.scoped, runID); err != nil {
		return storeError(err, "record the idempotency key's run")
	}
	return nil
}

// abandon frees the key when the call made no run (bad input, a full
// queue, a model that could not fill a prompt), so a retry runs; it
// returns cause.
func (t ticket) abandon(ctx context.Context, cause error) error {
	if t.scoped != "" {
		if err := t.i.store.AbandonIdempotent(context.WithoutCancel(ctx), t.scoped); err != nil {
			t.i.r.log.Error("could not free an idempotency key", "error", err)
		}
	}
	return cause
}

// actionDigest identifies an action call for idempotency: the action and
// its decoded arguments (input and prompt), whatever form or door they
// came in, and not how the caller asked to be answered.
func actionDigest(a *Action, in args) []byte {
	h := sha256.New()
	h.Write([]byte("action\x00" + a.ID + "\x00" + in.prompt + "\x00"))
	enc, _ := encodeInput(in.input)
	h.Write(enc)
	return h.Sum(nil)
}

// jobDigest identifies a job call for idempotency.
func jobDigest(j *Job) []byte {
	h := sha256.New()
	h.Write([]byte("job\x00" + j.Target + "\x00"))
	h.Write(j.Request)
	return h.Sum(nil)
}
