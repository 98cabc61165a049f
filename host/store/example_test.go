package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "toolhost-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := store.Open(dir, store.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Record the run durably before a side-effecting call...
	now := time.Now()
	run := &store.Run{
		ID:        store.NewID(store.RunPrefix),
		Kind:      "action",
		ActionID:  "CABC80BB79C15067CA983495324AE709",
		Status:    store.StatusRunning,
		Input:     json.RawMessage(`{"to":"ann@example.com"}`),
		StartedAt: &now,
	}
	if err := db.Runs().PutRun(context.Background(), run); err != nil {
		log.Fatal(err)
	}
	// ...and its result after it.
	run.Status = store.StatusSucceeded
	run.Output = json.RawMessage(`{"sent":true}`)
	if err := db.Runs().PutRun(context.Background(), run); err != nil {
		log.Fatal(err)
	}
	// A finished run never changes again.
	run.Status = store.StatusFailed
	err = db.Runs().PutRun(context.Background(), run)
	fmt.Println(errors.Is(err, store.ErrTerminal))

	runs, hasMore, err := db.Runs().ListRuns(context.Background(),
		store.RunFilter{ActionID: "CABC80BB79C15067CA983495324AE709", Status: store.StatusSucceeded},
		store.Page{Limit: 20},
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		fmt.Println(r.Status, string(r.Output))
	}
	fmt.Println("has more:", hasMore)
	// Output:
	// true
	// succeeded {"sent":true}
	// has more: false
}
