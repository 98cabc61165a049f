package core

import (
	"errors"
	"strings"
	"syscall"

	"github.com/toolhost/toolhost/host/domain"
)

// storeError is a store's failure to do what (a phrase: "record the run")
// as the error a caller gets: a full disk says so, anything else is
// internal (and logged where it is answered).
func storeError(err error, what string) error {
	if e := (*domain.Error)(nil); errors.As(err, &e) {
		return err
	}
	if diskFull(err) {
		return domain.WrapError(err, domain.CodeStorageFull, "could not %s: the disk is full (%v); free space and retry", what, err)
	}
	return domain.WrapError(err, domain.CodeInternal, "could not %s", what)
}

// diskFull reports whether err says a disk (or quota) is full, also when
// a library kept only the text of the cause.
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "disk quota exceeded")
}

// StorageHealth is nil while runs can be recorded, else the error a new
// run gets: storage_full (507) for a full disk, storage_unavailable (503)
// otherwise. Stores that do not report health are always healthy.
func (r *Runner) StorageHealth() error {
	h, ok := r.runs.(HealthReporter)
	if !ok {
		return nil
	}
	err := h.Health()
	switch {
	case err == nil:
		return nil
	case diskFull(err):
		return domain.WrapError(err, domain.CodeStorageFull, "runs cannot be recorded: %v; nothing was run. Free space there; toolhost resumes by itself", err)
	}
	return domain.WrapError(err, domain.CodeStorageUnavailable, "runs cannot be recorded: %v; nothing was run; toolhost retries by itself", err)
}
