package cli

import (
	"errors"
	"fmt"

	"github.com/toolhost/toolhost/host/store"
)

// dbRepair moves damaged run records into the quarantine bucket. It takes
// the file's lock, so it refuses to run while a server has it open.
func dbRepair(e *env, args []string) error {
	db, err := openStopped(e, "repair", args)
	if err != nil {
		return err
	}
	defer db.Close()
	reportJournalDamage(e, db)
	moved, err := db.QuarantineDamagedRuns()
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	for _, d := range moved {
		fmt.Fprintf(e.stdout, "quarantined run %s: %s\n", d.ID, d.Reason)
	}
	fmt.Fprintf(e.stdout, "%d damaged run record(s) moved to the quarantine bucket of %s\n", len(moved), db.Path())
	if err := db.Check(); err != nil {
		fmt.Fprintln(e.stdout, err)
		return fail(ExitFailed, "problems remain that repair does not fix; restore %s from a backup", db.Path())
	}
	fmt.Fprintln(e.stdout, "ok: the database checks clean")
	return nil
}

// reportJournalDamage says what Open's replay of the run journal could not
// read, if anything.
func reportJournalDamage(e *env, db *store.DB) {
	if w := db.Damage().File; w != "" {
		fmt.Fprintf(e.stdout, "WARNING: %s\n", w)
	}
	if d := db.JournalDamage(); d.Lost > 0 {
		fmt.Fprintf(e.stdout, "WARNING: run journal: %s; every other record was recovered\n", d)
	}
}

// openStopped opens the database the flags of `db name` point at, which
// no server may have open: its errors name the file and what to do.
func openStopped(e *env, name string, args []string) (*store.DB, error) {
	dir, _, err := dbFile(e, name, args)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(dir, store.Options{})
	if errors.Is(err, store.ErrInUse) {
		return nil, inUseError(err, "db "+name)
	}
	if err != nil {
		return nil, fail(ExitFailed, "%v", err)
	}
	return db, nil
}
