// Command baddef is a plugin with a bad definition: two actions share a key
// and one has no title. Serve must refuse it with a message naming both.
package main

import (
	"context"

	"github.com/toolhost/toolhost/sdk"
)

type empty struct{}

func nothing(context.Context, empty) (empty, error) { return empty{}, nil }

func main() {
	sdk.Serve(sdk.Plugin{
		Name: "baddef", Title: "Bad definition", Version: "0.1.0",
		Actions: []sdk.Action{
			{Key: "same", Title: "One", Type: sdk.Read, Handler: sdk.NewHandler(nothing)},
			{Key: "same", Title: "", Type: sdk.Read, Handler: sdk.NewHandler(nothing)},
		},
	})
}
