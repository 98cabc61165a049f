package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// stdin is where --input - reads from (a variable so tests can set it).
var stdin io.Reader = os.Stdin

func actionCmd(e *env, args []string) error {
	return subcommand(e, "action", args, map[string]func(*env, []string) error{
		"list": actionList,
		"run":  actionRun,
	})
}

// actionInfo is the part of an Action the commands show.
type actionInfo struct {
	ID       string `json:"id"`
	Key      string `json:"key"`
	Alias    string `json:"alias"`
	Title    string `json:"title"`
	Type     string `json:"type"`
	PluginID string `json:"pluginId"`
}

func actionList(e *env, args []string) error {
	fs := newFlags(e, "action list", "[--json]")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	var list []actionInfo
	raw, err := c.callRaw(http.MethodGet, "/v1/actions", nil, &list)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, raw)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no actions: no plugin is loaded (see toolhost plugin list)")
		return nil
	}
	t := newTable(e.stdout, "ALIAS", "ID", "TYPE", "TITLE")
	for _, a := range list {
		t.row(a.Alias, a.ID, a.Type, a.Title)
	}
	t.flush()
	return nil
}

// readInput reads --input: inline JSON, @file, or - for stdin. It must be
// a JSON object.
func readInput(v string) (json.RawMessage, error) {
	src := "--input"
	raw := []byte(v)
	switch {
	case v == "":
		return json.RawMessage("{}"), nil
	case v == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			return nil, fail(ExitUsage, "--input -: reading stdin: %v", err)
		}
		raw, src = b, "--input - (stdin)"
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fail(ExitUsage, "--input %s: %v", v, err)
		}
		raw, src = b, "--input "+v
	}
	raw = bytes.TrimSpace(raw)
	if !json.Valid(raw) {
		var x any
		err := json.Unmarshal(raw, &x)
		return nil, fail(ExitUsage, "%s is not valid JSON: %v", src, err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fail(ExitUsage, "%s must be a JSON object of the action's input, like '{\"text\":\"hi\"}'", src)
	}
	return raw, nil
}

func actionRun(e *env, args []string) error {
	fs := newFlags(e, "action run", "<action id | plugin.actionKey> [--input JSON | @file.json | -] [--timeout 10m]")
	input := fs.String("input", "", "the action's input: a JSON object, @file.json, or - to read stdin (default {})")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the run to finish")
	ref, err := parseOneArg(fs, args, "action: its id or plugin.actionKey (see toolhost action list)")
	if err != nil {
		return err
	}
	in, err := readInput(*input)
	if err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	c.timeout = *timeout
	var out struct {
		Output json.RawMessage `json:"output"`
		RunID  string          `json:"run_id"`
	}
	body := map[string]json.RawMessage{"input": in}
	if err := c.call(http.MethodPost, "/v1/actions/"+pathEscape(ref)+"/run", body, &out); err != nil {
		return err
	}
	if len(out.Output) == 0 {
		out.Output = json.RawMessage("{}")
	}
	return printJSON(e.stdout, out.Output)
}
