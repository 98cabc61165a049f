package pgstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/pgstore"
)

// Open connects, migrates and hands out the same aggregates as
// host/store; a run is committed when PutRun returns.
func ExampleOpen() {
	ctx := context.Background()
	db, err := pgstore.Open(ctx, pgstore.Options{
		DSN:       os.Getenv("TOOLHOST_DATABASE_URL"), // postgres://user:pass@host:5432/toolhost
		SecretKey: []byte("0123456789abcdef0123456789abcdef"),
	})
	if err != nil {
		log.Fatal(err) // names the host and port, never the password
	}
	defer db.Close()
	r := &domain.Run{Kind: "action", ActionID: "CA1", Status: domain.StatusRunning}
	if err := db.Runs().PutRun(ctx, r); err != nil {
		log.Fatal(err)
	}
	page, _, err := db.Runs().ListRuns(ctx, domain.RunFilter{Status: domain.StatusRunning}, domain.Page{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page))
}
