// Command needsconfig is a plugin with required configuration, for the
// misconfigured-plugin path.
package main

import (
	"context"

	"github.com/toolhost/toolhost/sdk"
)

type empty struct{}

func nothing(context.Context, empty) (empty, error) { return empty{}, nil }

func main() {
	sdk.Serve(sdk.Plugin{
		Name: "needsconfig", Title: "Needs config", Version: "0.1.0",
		Config: []sdk.ConfigParam{
			{Key: "apiToken", Title: "API token", Required: true, Secret: true},
			{Key: "region", Title: "Region", Required: true},
		},
		Actions: []sdk.Action{{Key: "noop", Title: "No-op", Type: sdk.Read, Handler: sdk.NewHandler(nothing)}},
	})
}
