package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// encodeRun encodes r as stored: the bytes json.Marshal gives for r
// without its raw JSON fields (input, output, extra), followed by those
// fields as they are. It writes the JSON by hand, field by field in Run's
// declaration order with encoding/json's rules (omitempty, HTML-safe
// strings, compacted raw event data, RFC 3339 times, ES6 floats), because
// the reflective encoder is a large part of a run's CPU time. Anything
// outside the common shapes (a string needing escapes, event data holding
// spaces) goes through encoding/json itself, so the output stays the same
// byte for byte; a test and a fuzz target compare the two.
//
// The raw fields are checked and copied rather than passed through
// encoding/json, which would re-validate and compact every byte of them
// again: for a run with a 64 KiB input that is most of the encoding's cost.
func encodeRun(r *Run) ([]byte, error) {
	if err := checkRawFields(r); err != nil {
		return nil, err
	}
	b, err := appendRunFields(make([]byte, 0, encodedSize(r)), r)
	if err != nil {
		return nil, fmt.Errorf("encoding run %s: %w", r.ID, err)
	}
	return appendRawFields(b, r), nil
}

type rawField struct {
	key string
	val json.RawMessage
}

// rawFields are r's fields that hold JSON, in the order they are stored.
func rawFields(r *Run) [3]rawField {
	return [...]rawField{{"input", r.Input}, {"output", r.Output}, {"extra", r.Extra}}
}

func checkRawFields(r *Run) error {
	if r.RawValid {
		return nil
	}
	for _, f := range rawFields(r) {
		if len(f.val) > 0 && !json.Valid(f.val) {
			return invalidf("run %s: %s is not valid JSON", r.ID, f.key)
		}
	}
	return nil
}

// appendRawFields appends r's non-empty raw fields as they are, and
// closes the object.
func appendRawFields(b []byte, r *Run) []byte {
	for _, f := range rawFields(r) {
		if len(f.val) == 0 {
			continue
		}
		b = append(b, `,"`...)
		b = append(b, f.key...)
		b = append(b, `":`...)
		b = append(b, f.val...)
	}
	return append(b, '}')
}

// encodedSize guesses the length of r's record, so that encodeRun
// allocates once in the common case.
func encodedSize(r *Run) int {
	n := 400 + len(r.KeyID) + len(r.Source) + len(r.ActionKey) + len(r.PluginName) + len(r.Input) + len(r.Output) + len(r.Extra)
	if r.Error != nil {
		n += len(r.Error.Code) + len(r.Error.Message)
	}
	for _, e := range r.Events {
		n += 80 + len(e.Type) + len(e.Data)
	}
	return n
}

// appendRunFields appends r's object without its raw fields and without
// the closing brace.
func appendRunFields(b []byte, r *Run) ([]byte, error) {
	b = appendStringField(append(b, '{'), `"id":`, r.ID)
	b = appendStringField(b, `,"kind":`, r.Kind)
	b = appendOptString(b, `,"action_id":`, r.ActionID)
	b = appendOptString(b, `,"action_key":`, r.ActionKey)
	b = appendOptString(b, `,"plugin_id":`, r.PluginID)
	b = appendOptString(b, `,"plugin_name":`, r.PluginName)
	b = appendOptString(b, `,"thread_id":`, r.ThreadID)
	b = appendOptString(b, `,"parent_run_id":`, r.ParentRunID)
	b = appendStringField(b, `,"status":`, r.Status)
	b = appendOptString(b, `,"key_id":`, r.KeyID)
	if e := r.Error; e != nil {
		b = appendStringField(b, `,"error":{"code":`, e.Code)
		b = append(appendStringField(b, `,"message":`, e.Message), '}')
	}
	var err error
	if len(r.Events) > 0 {
		if b, err = appendEvents(append(b, `,"events":`...), r.Events); err != nil {
			return nil, err
		}
	}
	if r.EventsDropped != 0 {
		b = strconv.AppendInt(append(b, `,"events_dropped":`...), int64(r.EventsDropped), 10)
	}
	if b, err = appendTime(append(b, `,"created_at":`...), r.CreatedAt); err != nil {
		return nil, err
	}
	for _, f := range [...]struct {
		key string
		t   *time.Time
	}{{`,"started_at":`, r.StartedAt}, {`,"finished_at":`, r.FinishedAt}} {
		if f.t == nil {
			continue
		}
		if b, err = appendTime(append(b, f.key...), *f.t); err != nil {
			return nil, err
		}
	}
	if r.DurationMS != 0 {
		if b, err = appendFloat(append(b, `,"duration_ms":`...), r.DurationMS); err != nil {
			return nil, err
		}
	}
	b = appendOptString(b, `,"key_name":`, r.KeyName)
	b = appendOptString(b, `,"source":`, r.Source)
	return appendOptString(b, `,"idempotency_key":`, r.IdempotencyKey), nil
}

func appendEvents(b []byte, events []Event) ([]byte, error) {
	b = append(b, '[')
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendEvent(b, e); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendEvent(b []byte, e Event) ([]byte, error) {
	b = strconv.AppendInt(append(b, `{"seq":`...), int64(e.Seq), 10)
	b = appendStringField(b, `,"type":`, e.Type)
	var err error
	if len(e.Data) > 0 {
		if b, err = appendCompactJSON(append(b, `,"data":`...), e.Data); err != nil {
			return nil, err
		}
	}
	if b, err = appendTime(append(b, `,"at":`...), e.At); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendStringField appends key (with its punctuation) and s as a JSON
// string.
func appendStringField(b []byte, key, s string) []byte {
	return domain.AppendJSONString(append(b, key...), s)
}

// appendOptString is appendStringField for an omitempty field.
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringField(b, key, s)
}

// appendCompactJSON appends raw as encoding/json encodes a
// json.RawMessage: checked, compacted and HTML-escaped. Valid JSON with
// none of the bytes compacting or escaping would change is copied; other
// input is left to encoding/json.
func appendCompactJSON(b []byte, raw json.RawMessage) ([]byte, error) {
	if compactAlready(raw) && json.Valid(raw) {
		return append(b, raw...), nil
	}
	v, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return append(b, v...), nil
}

// compactAlready reports whether raw holds no whitespace, no '<', '>' or
// '&', and no byte that may start U+2028 or U+2029: for valid JSON, what
// encoding/json's compaction leaves unchanged.
func compactAlready(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xe2:
			return false
		}
	}
	return true
}

// appendTime appends t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b, err := t.AppendText(append(b, '"'))
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// appendFloat appends f as encoding/json encodes a float64.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 → e-7, as encoding/json writes it
		b = b[:n-1]
	}
	return b, nil
}
