package domain

import (
	"encoding/json"
	"time"
)

// Interrupt ends a run that was in progress when the host running it
// stopped (or, with several replicas, when the replica running it died):
// status failed, Error InterruptedError, FinishedAt now and a run.failed
// event. Such a run is never run again: it may or may not have taken
// effect.
func (r *Run) Interrupt(now time.Time) {
	r.Status = StatusFailed
	e := InterruptedError
	r.Error = &e
	r.FinishedAt = &now
	if r.StartedAt != nil {
		r.DurationMS = float64(now.Sub(*r.StartedAt).Microseconds()) / 1000
	}
	data, _ := json.Marshal(map[string]any{"error": e})
	seq := 1
	if len(r.Events) > 0 {
		seq = r.Events[len(r.Events)-1].Seq + 1
	}
	r.Events = append(r.Events, Event{Seq: seq, Type: "run.failed", Data: data, At: now})
}
