package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/host/supervisor"
	"github.com/toolhost/toolhost/internal/manifest"
)

// pluginNameRE is the rule plugins.hcl and manifests apply to plugin names.
var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,49}$`)

func pluginCmd(e *env, args []string) error {
	return subcommand(e, "plugin", args, map[string]func(*env, []string) error{
		"describe": pluginDescribe,
		"install":  pluginInstall,
		"list":     pluginList,
		"new":      pluginNew,
		"remove":   pluginRemove,
	})
}

// describe starts the binary, reads its manifest and stops it.
func describe(e *env, path string, startTimeout time.Duration) (*manifest.Plugin, []byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fail(ExitUsage, "%v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fail(ExitUsage, "%s is not a file", path)
	}
	m, raw, err := supervisor.DescribeBinary(e.ctx, path, startTimeout)
	if err != nil {
		return nil, nil, fail(ExitFailed, "%s is not a working toolhost plugin: %v", path, err)
	}
	return m, raw, nil
}

func pluginDescribe(e *env, args []string) error {
	fs := newFlags(e, "plugin describe", "<binary> [--start-timeout 10s]")
	startTimeout := fs.Duration("start-timeout", config.DefaultStartTimeout, "how long the plugin may take to start")
	path, err := parseOneArg(fs, args, "plugin binary")
	if err != nil {
		return err
	}
	_, raw, err := describe(e, path, *startTimeout)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, json.RawMessage(raw))
}

func pluginInstall(e *env, args []string) error {
	fs := newFlags(e, "plugin install", "<binary> [--name NAME] [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	name := fs.String("name", "", "install under this name (default: the name in the plugin's manifest)")
	startTimeout := fs.Duration("start-timeout", 0, "how long the plugin may take to start (default: start_timeout from the config)")
	src, err := parseOneArg(fs, args, "plugin binary")
	if err != nil {
		return err
	}
	if *name != "" && !pluginNameRE.MatchString(*name) {
		return fail(ExitUsage, "--name %q must match %s", *name, pluginNameRE)
	}
	if st, err := os.Stat(src); err != nil {
		return fail(ExitUsage, "%v", err)
	} else if !st.Mode().IsRegular() {
		return fail(ExitUsage, "%s is not a file", src)
	}
	cfg, err := lf.load(e)
	if err != nil {
		return err
	}
	if *startTimeout <= 0 {
		*startTimeout = cfg.StartTimeout
	}
	if err := os.MkdirAll(cfg.PluginDir, 0o755); err != nil {
		return fail(ExitFailed, "creating the plugin directory: %v", err)
	}
	// Copy first, under a name the server ignores, and describe the copy:
	// what is checked is exactly what is installed.
	tmp, sum, err := copyExecutable(src, cfg.PluginDir)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	m, raw, err := supervisor.DescribeBinary(e.ctx, tmp, *startTimeout)
	if err != nil {
		os.Remove(tmp)
		return fail(ExitFailed, "%s is not a working toolhost plugin; nothing was installed: %v", src, err)
	}
	if *name == "" {
		*name = m.Name
	}
	for _, p := range cfg.Plugins {
		if p.Name == *name && p.Path != "" {
			return fail(ExitUsage, "%s declares plugin %q with path %s, so a file installed in %s would be ignored: install under another --name, or remove the path from that block",
				cfg.File, *name, p.Path, cfg.PluginDir)
		}
	}
	dst := filepath.Join(cfg.PluginDir, *name)
	_, existed := os.Stat(dst)
	if err := os.Rename(tmp, dst); err != nil {
		return fail(ExitFailed, "installing %s: %v", dst, err)
	}
	syncDir(cfg.PluginDir)
	verb := "Installed"
	if existed == nil {
		verb = "Updated"
	}
	fmt.Fprintf(e.stdout, "%s plugin %s %s (%d actions) at %s\nsha256 %s\n", verb, *name, m.Version, len(m.Actions), dst, sum)

	db, err := openLocalStore(e, cfg, 0)
	if errors.Is(err, store.ErrInUse) {
		return installOnRunningServer(e, *name, sum, err)
	}
	if err != nil {
		return fail(ExitFailed, "the file is installed, but recording it failed: %v", err)
	}
	defer db.Close()
	rec := &store.PluginRecord{Name: *name}
	if old, err := db.Plugins().GetPlugin(context.Background(), *name); err == nil {
		rec = old // keep its configuration and install time
	}
	rec.Path, rec.SHA256, rec.Version, rec.Manifest = dst, sum, m.Version, json.RawMessage(raw)
	if err := db.Plugins().PutPlugin(context.Background(), rec); err != nil {
		return fail(ExitFailed, "the file is installed, but recording it failed: %v", err)
	}
	fmt.Fprintln(e.stdout, "Recorded and pinned to that sha256. Start (or restart) `toolhost serve` to load it.")
	return nil
}

// installOnRunningServer tells a server that holds the store to load the
// new file, and explains what could not be done.
func installOnRunningServer(e *env, name, sum string, inUse error) error {
	c := newClient(e)
	defer c.close()
	c.authHint = serverHoldsStoreHint(c)
	fmt.Fprintf(e.stderr, "toolhost: %v; asking the server at %s to load the plugin\n", inUse, c.base)
	var list []pluginInfo
	if err := c.call(http.MethodGet, "/v1/admin/plugins/refresh", nil, &list); err != nil {
		return fail(exitCodeOf(err), "the file is installed, but the server could not be told to load it: %v", err)
	}
	fmt.Fprintf(e.stdout, "The server holds the database, so the install is not recorded and the binary is not pinned.\n"+
		"To pin it, add sha256 = \"%s\" to a plugin %q block in plugins.hcl, or run this install again with the server stopped.\n", sum, name)
	for _, p := range list {
		if p.Key != name {
			continue
		}
		fmt.Fprintf(e.stdout, "Server: plugin %s is %s\n", name, p.Status)
		if p.Reason != "" {
			fmt.Fprintf(e.stdout, "  %s\n", p.Reason)
			if strings.Contains(p.Reason, "sha256") {
				fmt.Fprintln(e.stdout, "  The database pins an earlier binary: stop the server and run this install again to record the new one.")
			}
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "The server did not list plugin %s after the refresh; check its plugin_dir.\n", name)
	return nil
}

// copyExecutable copies src into a hidden temporary file in dir with mode
// 0755 and returns its path and sha256.
func copyExecutable(src, dir string) (string, string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", fail(ExitUsage, "%v", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".install-*.tmp")
	if err != nil {
		return "", "", fail(ExitFailed, "writing to the plugin directory: %v", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(out.Name(), 0o755)
	}
	if err != nil {
		os.Remove(out.Name())
		return "", "", fail(ExitFailed, "copying %s: %v", src, err)
	}
	return out.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pluginInfo is a plugin as GET /v1/plugins and /v1/plugins/{id} show it.
type pluginInfo struct {
	ID      string            `json:"id"`
	Key     string            `json:"key"`
	Title   string            `json:"title"`
	Version string            `json:"version"`
	Status  string            `json:"status"`
	Reason  string            `json:"reason"`
	SHA256  string            `json:"sha256"`
	Actions []json.RawMessage `json:"actions"`
	// Transport is "stdio" or "http" for a hosted MCP server.
	Transport string `json:"transport"`
}

// pluginRow is one line of plugin list.
type pluginRow struct {
	Name    string `json:"name"`
	ID      string `json:"id,omitempty"`
	Version string `json:"version"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Actions *int   `json:"actions"` // nil when unknown
	SHA256  string `json:"sha256,omitempty"`
	Path    string `json:"path,omitempty"`
	// Transport is "stdio" or "http" for a hosted MCP server.
	Transport string `json:"transport,omitempty"`
}

func pluginList(e *env, args []string) error {
	fs := newFlags(e, "plugin list", "[--json] [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c := newClient(e)
	defer c.close()
	var list []pluginInfo
	var rows []pluginRow
	err := c.call(http.MethodGet, "/v1/plugins", nil, &list)
	switch {
	case err == nil:
		rows, err = serverPluginRows(e, c, lf, list)
		if err != nil {
			return err
		}
	case exitCodeOf(err) == ExitUnreachable:
		fmt.Fprintf(e.stderr, "toolhost: no server answers at %s; listing plugins from the config and the database\n", c.base)
		rows, err = localPluginRows(e, lf)
		if err != nil {
			return err
		}
	default:
		return err
	}
	if *asJSON {
		if rows == nil {
			rows = []pluginRow{}
		}
		return printJSON(e.stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "no plugins; install one with: toolhost plugin install <binary>")
		return nil
	}
	t := newTable(e.stdout, "NAME", "VERSION", "STATUS", "ACTIONS", "SHA256")
	for _, r := range rows {
		sum := r.SHA256
		if len(sum) > 16 {
			sum = sum[:16] + "…"
		}
		if r.Transport != "" {
			sum = "MCP server (" + r.Transport + ")" // no binary to pin
		}
		actions := ""
		if r.Actions != nil {
			actions = fmt.Sprint(*r.Actions)
		}
		t.row(r.Name, r.Version, r.Status, actions, sum)
	}
	t.flush()
	for _, r := range rows {
		if r.Reason != "" {
			fmt.Fprintf(e.stdout, "%s: %s\n", r.Name, r.Reason)
		}
	}
	return nil
}

// localPlugins is what the config and the store say, best effort.
type localPlugins struct {
	paths   map[string]string
	records map[string]*store.PluginRecord
	db      backend.Store
}

func readLocalPlugins(e *env, lf *localFlags, lockTimeout time.Duration) (*localPlugins, *config.Config, error) {
	lp := &localPlugins{paths: map[string]string{}, records: map[string]*store.PluginRecord{}}
	cfg, err := lf.load(e)
	if err != nil {
		return lp, nil, err
	}
	specs, err := cfg.AllPlugins()
	if err != nil {
		specs = cfg.Plugins
	}
	for _, s := range specs {
		lp.paths[s.Name] = s.Path
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, store.FileName)); err != nil && cfg.Store.Backend != config.BackendPostgres {
		return lp, cfg, nil
	}
	db, err := openLocalStore(e, cfg, lockTimeout)
	if err != nil {
		return lp, cfg, err
	}
	lp.db = db
	recs, err := db.Plugins().ListPlugins(context.Background())
	if err != nil {
		return lp, cfg, err
	}
	for _, r := range recs {
		lp.records[r.Name] = r
	}
	return lp, cfg, nil
}

func (lp *localPlugins) close() {
	if lp.db != nil {
		lp.db.Close()
	}
}

// sha is the sha256 of the plugin's binary: the recorded pin, else the
// file's current one.
func (lp *localPlugins) sha(name string) string {
	if r := lp.records[name]; r != nil && r.SHA256 != "" {
		return r.SHA256
	}
	if p := lp.paths[name]; p != "" {
		return fileSHA256(p)
	}
	return ""
}

func serverPluginRows(e *env, c *conn, lf *localFlags, list []pluginInfo) ([]pluginRow, error) {
	lp, _, _ := readLocalPlugins(e, lf, 200*time.Millisecond)
	lp.close()
	var rows []pluginRow
	for _, p := range list {
		var d pluginInfo
		if err := c.call(http.MethodGet, "/v1/plugins/"+pathEscape(p.ID), nil, &d); err != nil {
			return nil, err
		}
		sum := d.SHA256
		if sum == "" {
			sum = lp.sha(p.Key)
		}
		rows = append(rows, pluginRow{Name: p.Key, ID: p.ID, Version: p.Version, Status: p.Status, Reason: p.Reason,
			Actions: intPtr(len(d.Actions)), SHA256: sum, Path: lp.paths[p.Key], Transport: p.Transport})
	}
	return rows, nil
}

func localPluginRows(e *env, lf *localFlags) ([]pluginRow, error) {
	lp, _, err := readLocalPlugins(e, lf, 0)
	defer lp.close()
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			fmt.Fprintf(e.stderr, "toolhost: %v (but it does not answer at TOOLHOST_URL); showing the config only\n", err)
		} else {
			return nil, fail(exitCodeOf(err), "%v", err)
		}
	}
	names := map[string]bool{}
	for n := range lp.paths {
		names[n] = true
	}
	for n := range lp.records {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var rows []pluginRow
	for _, n := range sorted {
		row := pluginRow{Name: n, ID: core.PluginID(n), Status: "not running", Path: lp.paths[n], SHA256: lp.sha(n)}
		if row.Path == "" {
			if r := lp.records[n]; r != nil {
				row.Path = r.Path
			}
		}
		if _, err := os.Stat(row.Path); err != nil {
			row.Status, row.Reason = "missing", fmt.Sprintf("no binary at %s", row.Path)
		}
		var m json.RawMessage
		if r := lp.records[n]; r != nil {
			row.Version, m = r.Version, r.Manifest
		}
		if len(m) == 0 && lp.db != nil {
			if sum := fileSHA256(row.Path); sum != "" {
				m, _ = lp.db.Plugins().GetManifest(context.Background(), sum)
			}
		}
		var mf struct {
			Version string            `json:"version"`
			Actions []json.RawMessage `json:"actions"`
		}
		if len(m) > 0 && json.Unmarshal(m, &mf) == nil {
			row.Actions = intPtr(len(mf.Actions))
			if row.Version == "" {
				row.Version = mf.Version
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func intPtr(n int) *int { return &n }

func pluginRemove(e *env, args []string) error {
	fs := newFlags(e, "plugin remove", "<name> [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	name, err := parseOneArg(fs, args, "plugin name (see toolhost plugin list)")
	if err != nil {
		return err
	}
	if !pluginNameRE.MatchString(name) {
		return fail(ExitUsage, "%q is not a plugin name (see toolhost plugin list)", name)
	}
	cfg, err := lf.load(e)
	if err != nil {
		return err
	}
	for _, p := range cfg.Plugins {
		if p.Name == name && p.Path == "" {
			return fail(ExitUsage, "%s has a plugin %q block that configures the installed file; remove that block first, or the server will not start without the file", cfg.File, name)
		}
	}
	file := installedFile(cfg.PluginDir, name)
	db, err := openLocalStore(e, cfg, 0)
	inUse := errors.Is(err, store.ErrInUse)
	if err != nil && !inUse {
		return fail(ExitFailed, "%v", err)
	}
	var rec *store.PluginRecord
	if db != nil {
		defer db.Close()
		rec, _ = db.Plugins().GetPlugin(context.Background(), name)
	}
	if file == "" && rec == nil {
		for _, p := range cfg.Plugins {
			if p.Name == name {
				return fail(ExitUsage, "plugin %q is declared in %s, not installed with toolhost plugin install: remove its block there", name, cfg.File)
			}
		}
		return fail(ExitUsage, "plugin %q is not installed (nothing named %s in %s%s)", name, name, cfg.PluginDir, installedNames(cfg.PluginDir))
	}
	if file != "" {
		if err := os.Remove(file); err != nil {
			return fail(ExitFailed, "removing %s: %v", file, err)
		}
		fmt.Fprintf(e.stdout, "Removed %s\n", file)
	}
	if inUse {
		c := newClient(e)
		defer c.close()
		fmt.Fprintf(e.stderr, "toolhost: %v; asking the server at %s to unload the plugin\n", err, c.base)
		if err := c.call(http.MethodGet, "/v1/admin/plugins/refresh", nil, nil); err != nil {
			return fail(exitCodeOf(err), "the file is removed, but the server could not be told to unload it: %v", err)
		}
		fmt.Fprintf(e.stdout, "The server unloaded plugin %s (runs in flight finish first). Its install record stays in the database until you run `toolhost plugin remove %s` with the server stopped.\n", name, name)
		return nil
	}
	if rec != nil {
		if err := db.Plugins().DeletePlugin(context.Background(), name); err != nil {
			return fail(ExitFailed, "%v", err)
		}
		if rec.Path != "" && rec.Path != file && filepath.Dir(rec.Path) == filepath.Clean(cfg.PluginDir) {
			os.Remove(rec.Path)
		}
		fmt.Fprintf(e.stdout, "Removed the install record of plugin %s.\n", name)
	}
	return nil
}

// installedFile returns the executable for name in dir (name, or name
// with an extension), or "".
func installedFile(dir, name string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())) == name && e.Type().IsRegular() {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}

func installedNames(dir string) string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if e.Type().IsRegular() && pluginNameRE.MatchString(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "; no plugins are installed there"
	}
	return "; installed: " + strings.Join(names, ", ")
}
