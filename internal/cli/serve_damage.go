package cli

import (
	"fmt"
	"strings"
	"time"
)

// warnJournalDamage says loudly, on stdout and in the log, what Open's
// replay of the run journal could not read.
func (a *app) warnJournalDamage(e *env) {
	if w := a.db.Damage().File; w != "" {
		fmt.Fprintf(e.stdout, "WARNING: %s. Run `toolhost db check` with the server stopped; see README, Operations.\n", w)
		a.log.Warn("data file damaged: read around a damaged meta page", "detail", w)
	}
	d := a.db.JournalDamage()
	if d.Lost == 0 {
		return
	}
	fmt.Fprintf(e.stdout, "WARNING: the run journal was damaged: %s; every other record was recovered. "+
		"Runs acknowledged in that range are missing from history. See README, Operations: after a damage warning.\n", d)
	a.log.Warn("run journal damaged: acknowledged run records lost", "lost", d.Lost,
		"first_seq", d.FirstSeq, "last_seq", d.LastSeq, "bytes", d.Bytes, "file", a.db.Path())
}

// scanDamagedRuns reads every run record once after start (in small
// transactions, while serving) and warns when some do not decode; /health
// shows the count from then on.
func (a *app) scanDamagedRuns() {
	start := time.Now()
	bad, err := a.db.DamagedRuns()
	if err != nil {
		if !strings.Contains(err.Error(), "closed") {
			a.log.Error("scanning run records for damage", "error", err)
		}
		return
	}
	if len(bad) == 0 {
		a.log.Debug("run records scanned: none damaged", "took", time.Since(start))
		return
	}
	ids := make([]string, 0, min(len(bad), 10))
	for _, d := range bad[:min(len(bad), 10)] {
		ids = append(ids, d.ID)
	}
	a.log.Warn("damaged run records: they are left out of lists; stop the server and run `toolhost db check`, then `toolhost db repair`",
		"damaged", len(bad), "first_ids", strings.Join(ids, ","), "file", a.db.Path())
}
