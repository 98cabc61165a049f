package sdk

import (
	"fmt"
	"io"
	"os"

	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// Serve runs the plugin until the host stops it. It never returns: a bad
// definition, or a start by hand outside a host, exits 1 with a message.
func Serve(p Plugin) {
	os.Exit(serve(&p, os.Stderr))
}

func serve(p *Plugin, stderr io.Writer) int {
	local, err := p.local()
	if err != nil {
		fmt.Fprintf(stderr, "toolhost plugin %q has a bad definition: %v\n", p.Name, err)
		return 1
	}
	return engine.Serve(local, stderr)
}

func init() {
	engine.FromSDK = func(p any) (*engine.Local, error) {
		sp, ok := p.(*Plugin)
		if !ok {
			return nil, fmt.Errorf("engine.FromSDK: %T is not *sdk.Plugin", p)
		}
		return sp.local()
	}
}
