package engine_test

import (
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// local prepares p as Serve would.
func local(tb testing.TB, p sdk.Plugin) *engine.Local {
	tb.Helper()
	l, err := engine.FromSDK(&p)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}
