package pgstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/pgstore"
)

// TestDamagedRunRecords: a run record that does not decode (changed by
// hand in the database) is left out of pages and named, reading past it
// to fill the page; GetRun says it is damaged; Check names it.
func TestDamagedRunRecords(t *testing.T) {
	db, _ := open(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		r := &domain.Run{Kind: "action", Status: domain.StatusSucceeded, ActionID: "CA1"}
		if err := db.Runs().PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if _, err := db.Pool().Exec(ctx, "UPDATE runs SET record = '{\"id\":' WHERE id = $1", ids[3]); err != nil {
		t.Fatal(err)
	}
	pg, err := db.Runs().ListRunsPage(ctx, domain.RunFilter{ActionID: "CA1"}, domain.Page{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Runs) != 2 || pg.Runs[0].ID != ids[4] || pg.Runs[1].ID != ids[2] || !pg.HasMore ||
		len(pg.Damaged) != 1 || pg.Damaged[0] != ids[3] {
		t.Fatalf("page = %d runs %v, more %v, damaged %v", len(pg.Runs), pg.Runs, pg.HasMore, pg.Damaged)
	}
	if _, err := db.Runs().GetRun(ctx, ids[3]); !errors.Is(err, pgstore.ErrCorrupt) {
		t.Errorf("GetRun(damaged) = %v, want ErrCorrupt", err)
	}
	if err := db.Check(ctx); !errors.Is(err, pgstore.ErrCorrupt) {
		t.Errorf("Check = %v, want ErrCorrupt naming %s", err, ids[3])
	}
}
