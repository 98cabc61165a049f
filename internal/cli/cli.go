// Package cli implements the toolhost command: serve, and the admin
// commands for keys, plugins, actions, runs, threads and the database.
// main only calls Run, so tests drive the whole command in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "0.1.0-dev"

// Exit codes. They mean the same for every command.
const (
	ExitOK          = 0
	ExitFailed      = 1 // the action or operation failed
	ExitUsage       = 2 // bad arguments or invalid input (HTTP 400/404)
	ExitAuth        = 3 // missing or invalid API key (HTTP 401/403)
	ExitUnreachable = 4 // the server could not be reached
)

// env is how commands read the environment (a func, so tests can set it).
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader // nil: os.Stdin
	stdout io.Writer
	stderr io.Writer
}

// exitError carries an exit code and a message for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "start the runner on plugins.hcl", serve},
		{"key", "create, list or revoke API keys", keyCmd},
		{"plugin", "make, describe, install, list or remove plugins", pluginCmd},
		{"action", "list or run actions on a running server", actionCmd},
		{"runs", "list, show or follow runs on a running server", runsCmd},
		{"thread", "talk to an assistant on a thread", threadCmd},
		{"mcp", "MCP over stdio, forwarded to the server's /mcp (for Claude Desktop and other local clients)", mcpCmd},
		{"db", "check, repair or compact the database (server stopped); migrate or copy to PostgreSQL", dbCmd},
		{"version", "print the version", func(e *env, _ []string) error { fmt.Fprintln(e.stdout, "toolhost", Version); return nil }},
	}
}

// Run runs the toolhost command with args and returns the exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(stderr, c.run(e, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "toolhost: unknown command %q\n\n", args[0])
	usage(stderr)
	return ExitUsage
}

func exitCode(stderr io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "toolhost:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "toolhost:", err)
	return ExitFailed
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "toolhost runs AI-assistant actions from plugins and serves them over HTTP.")
	fmt.Fprintln(w, "\nUsage: toolhost <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"toolhost <command> -h\" for a command's flags.")
	fmt.Fprintln(w, "Admin commands talk to TOOLHOST_URL (default http://127.0.0.1:4201) with TOOLHOST_API_KEY.")
}

// newFlags returns a flag set that reports errors as usage exits.
func newFlags(e *env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet("toolhost "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: toolhost %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fail(ExitUsage, "")
	}
	return nil
}

// subcommand dispatches "toolhost <group> <sub> ...".
func subcommand(e *env, group string, args []string, subs map[string]func(*env, []string) error) error {
	if len(args) == 0 {
		return fail(ExitUsage, "%s needs a subcommand: %s", group, strings.Join(sortedKeys(subs), ", "))
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stdout, "Usage: toolhost %s <%s> [arguments]\n", group, strings.Join(sortedKeys(subs), "|"))
		return nil
	}
	fn, ok := subs[args[0]]
	if !ok {
		return fail(ExitUsage, "unknown %s subcommand %q; try: %s", group, args[0], strings.Join(sortedKeys(subs), ", "))
	}
	return fn(e, args[1:])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
