package sdk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

// GreetInput is the greet action's input.
type GreetInput struct {
	Name  string `json:"name" title:"Name" description:"Who to greet."`
	Shout bool   `json:"shout,omitempty" title:"Shout" description:"Greet in capitals."`
}

// GreetOutput is the greet action's output.
type GreetOutput struct {
	Greeting string `json:"greeting" title:"Greeting" description:"The greeting."`
}

func greet(ctx context.Context, in GreetInput) (GreetOutput, error) {
	sdk.LoggerFrom(ctx).Info("greeting", "name", in.Name)
	g := sdk.ConfigFrom(ctx).Get("salutation") + ", " + in.Name + "!"
	if in.Shout {
		g = strings.ToUpper(g)
	}
	return GreetOutput{Greeting: g}, nil
}

var greeter = sdk.Plugin{
	Name:        "greeter",
	Title:       "Greeter",
	Description: "Greets people.",
	Version:     "1.0.0",
	Config: []sdk.ConfigParam{
		{Key: "salutation", Title: "Salutation", Description: "Word to greet with.", Required: true},
	},
	Actions: []sdk.Action{{
		Key:         "greet",
		Title:       "Greet",
		Description: "Greet a person by name.",
		Type:        sdk.Read,
		Handler:     sdk.NewHandler(greet),
	}},
}

// A complete plugin. In its own module, main would be:
//
//	func main() { sdk.Serve(greeter) }
//
// Here it runs in-process through sdktest, as a unit test would.
func Example() {
	h := sdktest.New(&testing.T{}, greeter, sdk.Config{"salutation": "Hello"})
	res := h.Run(context.Background(), "greet", map[string]any{"name": "Ada", "shout": true})
	fmt.Println(string(res.Output))
	fmt.Println(res.Logs[0].Message, res.Logs[0].Fields["name"])

	bad := h.Run(context.Background(), "greet", map[string]any{"nme": "Ada"})
	fmt.Println(bad.Err.Code)
	// Output:
	// {"greeting":"HELLO, ADA!"}
	// greeting Ada
	// invalid_input
}
