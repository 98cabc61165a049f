package core

import (
	"errors"
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
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return domain.WrapError(err, domain.CodeStorageFull, "could not %s: the data directory's disk is full (%v); free space and retry", what, err)
	}
	return domain.WrapError(err, domain.CodeInternal, "could not %s", what)
}
