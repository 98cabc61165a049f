package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestRunKeysComeBeforeStatus guards decodeRunKeys's shortcut: it stops
// reading a record at "status", so every field it needs must be declared
// before Status, and it only pays off while the large ones come after it.
func TestRunKeysComeBeforeStatus(t *testing.T) {
	typ := reflect.TypeFor[Run]()
	pos := func(name string) int {
		f, ok := typ.FieldByName(name)
		if !ok {
			t.Fatalf("Run has no field %s", name)
		}
		return f.Index[0]
	}
	status := pos("Status")
	for _, name := range []string{"ID", "ActionID", "PluginID", "ThreadID"} {
		if pos(name) > status {
			t.Errorf("Run.%s is declared after Status: decodeRunKeys would miss it", name)
		}
	}
	for _, name := range []string{"Input", "Output", "Events", "Extra"} {
		if pos(name) < status {
			t.Errorf("Run.%s is declared before Status: decodeRunKeys would read it", name)
		}
	}
}

func TestDecodeRunKeys(t *testing.T) {
	r := &Run{ID: "run_1", Kind: "action", ActionID: "CA", PluginID: "CP", ThreadID: "thread_1", Status: StatusRunning, KeyID: "key_1",
		Input: json.RawMessage(`{"text":"` + strings.Repeat("x", 1<<16) + `"}`)}
	viaStore, err := encodeRun(r)
	if err != nil {
		t.Fatal(err)
	}
	viaMarshal, _ := json.Marshal(r)
	for _, v := range [][]byte{viaStore, viaMarshal} {
		got, err := decodeRunKeys(v)
		if err != nil {
			t.Fatal(err)
		}
		want := runKeysOf(r)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeRunKeys = %+v, want %+v", got, want)
		}
	}
	for _, bad := range []string{``, `[]`, `{"id":1}`, `{"id":"run_1","status":`, `not json`} {
		if _, err := decodeRunKeys([]byte(bad)); err == nil {
			t.Errorf("decodeRunKeys(%q) did not fail", bad)
		}
	}
}

// TestEncoderKnowsEveryField guards encode_run.go: it writes Run, RunError
// and Event field by field, so a field added to one of them would be
// dropped from stored records unless the encoder learns it too.
func TestEncoderKnowsEveryField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[Run](): {"id", "kind", "action_id", "action_key", "plugin_id", "plugin_name", "thread_id",
			"parent_run_id", "status", "key_id", "input", "output", "error", "events", "events_dropped", "extra",
			"created_at", "started_at", "finished_at", "duration_ms", "key_name", "source", "idempotency_key"},
		reflect.TypeFor[RunError](): {"code", "message"},
		reflect.TypeFor[Event]():    {"seq", "type", "data", "at"},
	}
	for typ, want := range known {
		var got []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name != "-" {
				got = append(got, name)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s's JSON fields are %v; encode_run.go writes %v: teach it the change (and variedRun in encode_test.go)", typ.Name(), got, want)
		}
	}
}
