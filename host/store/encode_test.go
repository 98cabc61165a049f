package store_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/store"
)

func TestRawFieldsRoundTripAndAreChecked(t *testing.T) {
	db := openDB(t, "")
	r := newRun(store.StatusSucceeded)
	r.Input = json.RawMessage(`{"text": "a \"quoted\" \u00e9 value", "n": [1, 2]}`)
	r.Output = json.RawMessage(`{"ok":true}`)
	r.Extra = json.RawMessage(`{"steps":2}`)
	mustPut(t, db, r)
	got, err := db.GetRun(r.ID)
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
	err = db.PutRun(bad)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "output") {
		t.Fatalf("invalid output JSON: %v", err)
	}
	if _, err := db.GetRun(bad.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused run was stored: %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
