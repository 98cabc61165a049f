package core

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/toolhost/toolhost/host/domain"
)

// Caps on what a plugin's log and progress events may store (see
// docs/API.md, Limits): one event's message and fields, and all of a
// run's log and progress events together. Past them a run's history and
// the host's memory stay bounded whatever the plugin sends.
const (
	MaxEventMessage  = 8 << 10  // bytes of one event's message
	MaxEventFields   = 56 << 10 // bytes of one event's fields (JSON)
	MaxRunEventBytes = 4 << 20  // bytes of a run's log and progress events
)

// capPluginEvent cuts an event's message and drops fields over the caps,
// saying so in the event: a cut message ends with a marker naming its
// length, and fields too large become {"truncated":true,"bytes":N}.
func capPluginEvent(e domain.PluginEvent) domain.PluginEvent {
	if len(e.Message) > MaxEventMessage {
		n := len(e.Message)
		cut := MaxEventMessage
		for cut > 0 && !utf8.RuneStart(e.Message[cut]) {
			cut--
		}
		e.Message = e.Message[:cut] + fmt.Sprintf(" [truncated: %d of %d bytes kept]", cut, n)
	}
	if len(e.Fields) > MaxEventFields {
		e.Fields = json.RawMessage(fmt.Sprintf(`{"truncated":true,"bytes":%d}`, len(e.Fields)))
	}
	return e
}

// The states of a run's event byte cap.
const (
	capOpen    = iota // under the cap
	capMarking        // adding the marker event
	capReached        // later log and progress events are dropped
)

// capMarker is the run.log event added once a run reaches
// MaxRunEventBytes.
var capMarker, _ = json.Marshal(map[string]string{"level": "warn",
	"message": fmt.Sprintf("[log cap of %d bytes per run reached: later log and progress events are dropped and counted in logs_dropped]", MaxRunEventBytes)})

// overRunCap counts raw against the run's event byte cap and reports
// whether it is past it; the first time, it adds the marker event.
// Called with mu held, for log and progress events.
func (x *active) overRunCap(raw json.RawMessage) bool {
	switch {
	case x.capState == capMarking:
		return false
	case x.capState == capReached:
		return true
	case x.eventBytes+len(raw) <= MaxRunEventBytes:
		x.eventBytes += len(raw)
		return false
	}
	x.capState = capMarking
	x.addLocked("run.log", capMarker)
	x.capState = capReached
	return true
}
