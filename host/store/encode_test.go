package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func TestRawFieldsRoundTripAndAreChecked(t *testing.T) {
	db := openDB(t, "")
	r := newRun(store.StatusSucceeded)
	r.Input = json.RawMessage(`{"text": "a \"quoted\" \u00e9 value", "n": [1, 2]}`)
	r.Output = json.RawMessage(`{"ok":true}`)
	r.Extra = json.RawMessage(`{"steps":2}`)
	mustPut(t, db, r)
	got, err := db.Runs().GetRun(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]json.RawMessage{"input": {r.Input, got.Input}, "output": {r.Output, got.Output}, "extra": {r.Extra, got.Extra}} {
		var a, b any
		json.Unmarshal(pair[0], &a)
		json.Unmarshal(pair[1], &b)
		if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
			t.Errorf("%s: stored %s, read %s", name, ja, jb)
		}
	}
	bad := newRun(store.StatusSucceeded)
	bad.Output = json.RawMessage(`{"ok":`)
	err = db.Runs().PutRun(context.Background(), bad)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "output") {
		t.Fatalf("invalid output JSON: %v", err)
	}
	if _, err := db.Runs().GetRun(context.Background(), bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused run was stored: %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEncodeRunMatchesEncodingJSON compares the hand-written run encoder
// with encoding/json over many runs built from awkward values: strings
// that need escaping, event data to compact, odd time zones, floats at
// the format's cutoffs, and values encoding/json refuses.
func TestEncodeRunMatchesEncodingJSON(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	refused := 0
	for i := range 20000 {
		r := variedRun(rng)
		want, wantErr := store.EncodeRunReflect(r)
		got, err := store.EncodeRun(r)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("run %d: encodeRun = %s, %v\nencoding/json gives %s, %v", i, got, err, want, wantErr)
		}
		if err != nil {
			refused++
		}
	}
	if refused == 0 || refused > 10000 {
		t.Errorf("%d of 20000 runs refused: the cases do not cover both outcomes well", refused)
	}
}

var (
	awkwardStrings = []string{"", "run_01J9Z3", "plain text", "a<b>&c", "fish & chips", "x>y", `say "hi"`, `back\slash`, "tab\tnl\ncr\r",
		"\x00\x01\x1f\x7f", "\b\f", "é ünï 日本", "\u2028\u2029", "\xff\xfe bad utf-8", "🎉", "<script>"}
	awkwardData = []string{"", "{}", `{"a":1}`, `{ "a" : [1, 2] }`, `{"h":"<b>&"}`, "\"\u2028\"", `{"s":"a b"}`,
		`{"x":"é"}`, "[1,2,3]", "null", `"x"`, `{"a":`, "  {\"a\":1}\n", `{"k":"\u003c"}`, `{"n":1e400}`, "nul", "{\"t\":\"\t\"}"}
	awkwardFloats = []float64{0, math.Copysign(0, -1), 12.5, 1e-7, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.123,
		1e-300, -5e-324, math.MaxFloat64, math.NaN(), math.Inf(-1), 0.001}
	awkwardZones = []*time.Location{time.UTC, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -3601),
		time.FixedZone("", 24*3600), time.Local}
	awkwardYears = []int{2026, 1970, 1, 0, 9999, 10000, -1}
)

// variedRun builds a run from the awkward values, most of them valid.
func variedRun(rng *mrand.Rand) *store.Run {
	str := func() string { return pick(rng, awkwardStrings) }
	opt := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return str()
	}
	r := &store.Run{ID: str(), Kind: str(), ActionID: opt(), ActionKey: opt(), PluginID: opt(), PluginName: opt(),
		ThreadID: opt(), ParentRunID: opt(), Status: str(), KeyName: opt(), KeyID: opt(), Source: opt(), IdempotencyKey: opt(),
		CreatedAt: variedTime(rng)}
	if rng.IntN(4) == 0 {
		r.DurationMS = pick(rng, awkwardFloats)
	}
	if rng.IntN(3) == 0 {
		r.Error = &store.RunError{Code: str(), Message: str()}
	}
	for range rng.IntN(5) {
		r.Events = append(r.Events, store.Event{Seq: rng.IntN(2000) - 2, Type: str(), At: variedTime(rng),
			Data: variedData(rng)})
	}
	if rng.IntN(8) == 0 {
		r.Events = []store.Event{}
	}
	r.EventsDropped = rng.IntN(3) * rng.IntN(1000)
	if rng.IntN(2) == 0 {
		t := variedTime(rng)
		r.StartedAt = &t
	}
	if rng.IntN(2) == 0 {
		t := variedTime(rng)
		r.FinishedAt = &t
	}
	r.Input, r.Output, r.Extra = variedData(rng), variedData(rng), variedData(rng)
	return r
}

func variedTime(rng *mrand.Rand) time.Time {
	year, loc := 2026, time.UTC
	if rng.IntN(8) == 0 {
		year, loc = pick(rng, awkwardYears), pick(rng, awkwardZones)
	}
	return time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60),
		rng.IntN(3)*rng.IntN(1e9), loc)
}

// variedData is mostly valid JSON, sometimes nothing or invalid.
func variedData(rng *mrand.Rand) json.RawMessage {
	d := pick(rng, awkwardData)
	if rng.IntN(4) != 0 && !json.Valid([]byte(d)) {
		d = `{"ok":true}`
	}
	if d == "" && rng.IntN(2) == 0 {
		return json.RawMessage{}
	}
	return json.RawMessage(d)
}

func pick[T any](rng *mrand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// FuzzEncodeRun compares the hand-written run encoder with encoding/json
// on runs whose strings, event data, numbers and times come from the
// fuzzer.
func FuzzEncodeRun(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	for range 40 {
		f.Add(pick(rng, awkwardStrings), pick(rng, awkwardStrings), []byte(pick(rng, awkwardData)),
			[]byte(pick(rng, awkwardData)), rng.IntN(2000), pick(rng, awkwardFloats), rng.Int64N(1<<35), rng.Int64N(1e9), rng.IntN(40*3600)-20*3600)
	}
	f.Add("run_1", "action", []byte(`{"id":"run_1","status":"queued"}`), []byte(`{}`), 0, 12.5, int64(1764170000), int64(123456789), 0)
	f.Fuzz(func(t *testing.T, s1, s2 string, data, raw []byte, n int, dur float64, sec, nsec int64, zone int) {
		// Years from about -200 to 4100 and offsets up to ±30h: mostly
		// times both encode, some that both refuse.
		at := time.Unix(sec%(1<<36), nsec).In(time.FixedZone("", zone%(30*3600)))
		r := &store.Run{ID: s1, Kind: s2, ActionID: s2, ThreadID: s1, Status: s1 + s2, Input: raw, Output: data,
			Error: &store.RunError{Code: s2, Message: s1}, EventsDropped: n, CreatedAt: at, StartedAt: &at,
			DurationMS: dur, IdempotencyKey: s2,
			Events: []store.Event{{Seq: n, Type: s1, Data: data, At: at}, {Seq: n + 1, Type: s2, Data: raw, At: at.Add(time.Duration(n))}}}
		want, wantErr := store.EncodeRunReflect(r)
		got, err := store.EncodeRun(r)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("encodeRun = %s, %v\nencoding/json gives %s, %v", got, err, want, wantErr)
		}
	})
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range append(awkwardStrings, "\t", "\x7f", "~", " ") {
		want, _ := json.Marshal(s)
		if got := domain.AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendJSONString(%q) = %s, encoding/json gives %s", s, got[1:], want)
		}
	}
}
