package cli

import (
	"os"
	"testing"

	"github.com/toolhost/toolhost/internal/pgtest"
	"github.com/toolhost/toolhost/internal/testbin"
)

// testkitBin is the testkit plugin, built once for the package's tests.
var testkitBin string

func TestMain(m *testing.M) {
	testkitBin = testbin.MustBuild("internal/testplugins/testkit")
	code := m.Run()
	testbin.Cleanup()
	pgtest.Stop()
	os.Exit(code)
}
