package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// AllPlugins returns the declared plugins plus every executable in
// PluginDir, named after its file (without extension). A block whose name
// matches a file and has no path of its own configures that file.
func (c *Config) AllPlugins() ([]Plugin, error) {
	out := append([]Plugin(nil), c.Plugins...)
	if c.PluginDir == "" {
		return out, c.checkPaths(out)
	}
	entries, err := os.ReadDir(c.PluginDir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read plugin_dir %s: %w", c.PluginDir, err)
	}
	index := map[string]int{}
	for i, p := range out {
		index[p.Name] = i
	}
	var found []Plugin
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode()&0o111 == 0 || !pluginNameRe.MatchString(name) {
			continue
		}
		path := filepath.Join(c.PluginDir, e.Name())
		if i, ok := index[name]; ok {
			if out[i].Path == "" {
				out[i].Path = path
			}
			continue
		}
		found = append(found, Plugin{
			Name: name, Path: path, FromDir: true, Timeout: DefaultTimeout,
			Concurrency: DefaultConcurrency, AutoMTLS: c.AutoMTLS,
			Config: map[string]string{}, ConfigEnv: map[string]string{},
			ActionTimeouts: map[string]time.Duration{},
		})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	out = append(out, found...)
	return out, c.checkPaths(out)
}

func (c *Config) checkPaths(ps []Plugin) error {
	for _, p := range ps {
		if p.Path == "" {
			return fmt.Errorf("%s: plugin %q has no path, and no file named %q is in plugin_dir", c.File, p.Name, p.Name)
		}
	}
	return nil
}
