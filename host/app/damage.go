package app

import (
	"fmt"
	"strings"
	"time"
)

// warnJournalDamage says loudly, on stdout and in the log, what Open's
// replay of the run journal could not read.
func (a *App) warnDamage() {
	if w := a.DB.Damage().File; w != "" {
		fmt.Fprintf(a.opts.Notices, "WARNING: %s. Run `toolhost db check` with the server stopped; see README, Operations.\n", w)
		a.Log.Warn("data file damaged: read around a damaged meta page", "detail", w)
	}
	d := a.DB.JournalDamage()
	if d.Lost == 0 {
		return
	}
	fmt.Fprintf(a.opts.Notices, "WARNING: the run journal was damaged: %s; every other record was recovered. "+
		"Runs acknowledged in that range are missing from history. See README, Operations: after a damage warning.\n", d)
	a.Log.Warn("run journal damaged: acknowledged run records lost", "lost", d.Lost,
		"first_seq", d.FirstSeq, "last_seq", d.LastSeq, "bytes", d.Bytes, "file", a.DB.Path())
}

// scanDamagedRuns reads every run record once after start (in small
// transactions, while serving) and warns when some do not decode; /health
// shows the count from then on.
func (a *App) scanDamagedRuns() {
	start := time.Now()
	bad, err := a.DB.DamagedRuns()
	if err != nil {
		if !strings.Contains(err.Error(), "closed") {
			a.Log.Error("scanning run records for damage", "error", err)
		}
		return
	}
	if len(bad) == 0 {
		a.Log.Debug("run records scanned: none damaged", "took", time.Since(start))
		return
	}
	ids := make([]string, 0, min(len(bad), 10))
	for _, d := range bad[:min(len(bad), 10)] {
		ids = append(ids, d.ID)
	}
	a.Log.Warn("damaged run records: they are left out of lists; stop the server and run `toolhost db check`, then `toolhost db repair`",
		"damaged", len(bad), "first_ids", strings.Join(ids, ","), "file", a.DB.Path())
}
