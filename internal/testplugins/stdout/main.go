// Command stdout prints to stdout before serving, which breaks the
// go-plugin handshake.
package main

import (
	"context"
	"fmt"

	"github.com/toolhost/toolhost/sdk"
)

type empty struct{}

func nothing(context.Context, empty) (empty, error) { return empty{}, nil }

func main() {
	fmt.Println("hello from a chatty plugin")
	sdk.Serve(sdk.Plugin{
		Name: "stdout", Title: "Stdout", Version: "0.1.0",
		Actions: []sdk.Action{{Key: "noop", Title: "No-op", Type: sdk.Read, Handler: sdk.NewHandler(nothing)}},
	})
}
