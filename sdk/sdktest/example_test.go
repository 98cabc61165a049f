package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

type pingIn struct {
	Host string `json:"host" title:"Host" description:"Where to send the ping."`
}

type pingOut struct {
	OK bool `json:"ok" title:"OK" description:"Whether it answered."`
}

var pinger = sdk.Plugin{
	Name: "pinger", Title: "Pinger", Version: "1.0.0",
	Config: []sdk.ConfigParam{{Key: "region", Title: "Region", Required: true}},
	CheckConfig: func(c sdk.Config) error {
		if r := c.Get("region"); r != "" && !strings.HasPrefix(r, "eu-") {
			return errors.New("region: only eu-* regions are served")
		}
		return nil
	},
	Actions: []sdk.Action{{Key: "ping", Title: "Ping", Type: sdk.Read, Handler: sdk.NewHandler(
		func(context.Context, pingIn) (pingOut, error) { return pingOut{OK: true}, nil })}},
}

// ConfigProblems says what a host would report about a configuration:
// missing required values first, then the plugin's own CheckConfig.
func ExampleHarness_ConfigProblems() {
	h := sdktest.New(&testing.T{}, pinger, sdk.Config{})
	fmt.Println(h.ConfigProblems())
	h.Config = sdk.Config{"region": "us-east-1"}
	fmt.Println(h.ConfigProblems())
	h.Config = sdk.Config{"region": "eu-west-1"}
	fmt.Println(h.ConfigProblems(), h.Run(context.Background(), "ping", `{"host":"a"}`).Err == nil)
	// Output:
	// [{region required value is missing}]
	// [{ region: only eu-* regions are served}]
	// [] true
}
