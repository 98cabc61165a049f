package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/toolhost/toolhost/internal/pluginrpc"
)

// Serve serves l until the host stops the process, and returns the exit
// code: 1 when the binary was started by hand, outside a host.
func Serve(l *Local, stderr io.Writer) int {
	name := l.Manifest().Name
	if os.Getenv(pluginrpc.Handshake.MagicCookieKey) != pluginrpc.Handshake.MagicCookieValue {
		printManualStart(stderr, l)
		return 1
	}
	srv, err := NewServer(l)
	if err != nil {
		fmt.Fprintf(stderr, "toolhost plugin %q: %v\n", name, err)
		return 1
	}
	tp, err := setupTracing(name, l.Manifest().Version, os.Getenv, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "toolhost plugin %q: tracing is off: %v\n", name, err)
	}
	if tp != nil {
		srv.tracer = tp.Tracer(TracerName)
	}
	// plugin.Serve returns when the host stops the plugin gracefully: the
	// spans still buffered are sent before the process exits.
	defer flushTracing(tp)
	go exitWhenOrphaned(os.Getppid())
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: pluginrpc.PluginSets(srv),
		GRPCServer:       pluginrpc.NewServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: name, Output: stderr, JSONFormat: true, Level: hclog.Info,
		}),
	})
	return 0
}

func printManualStart(w io.Writer, l *Local) {
	m := l.Manifest()
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	var required, optional []string
	for _, c := range m.Config {
		if c.Required {
			required = append(required, c.Key+` = "..."`)
		} else {
			optional = append(optional, c.Key)
		}
	}
	config := ""
	if len(required) > 0 {
		config = "\n      config = { " + strings.Join(required, ", ") + " }"
	} else if len(optional) > 0 {
		config = "\n      # config = { " + optional[0] + ` = "..." }`
	}
	fmt.Fprintf(w, `This is a toolhost plugin: %s (%s) version %s, with %d action(s).
It is started by a toolhost host, not by hand. To install it, run
    toolhost plugin install %s
and configure the installed plugin in plugins.hcl with a block without path:
    plugin %q {%s
    }
or, without installing, point a block at this file:
    plugin %q {
      path = %q%s
    }
`, m.Name, m.Title, m.Version, len(m.Actions), exe, m.Name, config, m.Name, exe, config)
	if len(optional) > 0 {
		fmt.Fprintf(w, "Optional config keys: %s.\n", strings.Join(optional, ", "))
	}
}

// exitWhenOrphaned ends the plugin when the host is gone. The host also sets
// a parent-death signal; this covers hosts that could not.
func exitWhenOrphaned(parent int) {
	for range time.Tick(500 * time.Millisecond) {
		if os.Getppid() != parent {
			os.Exit(2)
		}
	}
}
