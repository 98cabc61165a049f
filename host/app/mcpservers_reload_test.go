package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/testbin"
)

// TestReloadMCPServers: a reload starts added mcp_server blocks, stops
// removed ones and keeps unchanged ones running (same pid).
func TestReloadMCPServers(t *testing.T) {
	bin, err := testbin.Build("internal/testplugins/mcpserver")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "plugins.hcl")
	write := func(names ...string) {
		var b bytes.Buffer
		fmt.Fprintf(&b, "data_dir = %q\n", filepath.Join(dir, "data"))
		for _, n := range names {
			fmt.Fprintf(&b, "mcp_server %q {\n  command = [%q]\n}\n", n, bin)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one", "two")
	getenv := func(string) string { return "" }
	cfg, err := config.Load(path, getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, ConfigPath: path, Getenv: getenv,
		SecretKey: bytes.Repeat([]byte{3}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	}()
	pids := map[string]int{}
	for _, s := range a.MCPServers.List() {
		pids[s.Name()] = s.Info().PID
	}
	if len(pids) != 2 || pids["one"] == 0 || pids["two"] == 0 {
		t.Fatalf("before: %v", pids)
	}
	write("one", "three")
	if err := a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range a.MCPServers.List() {
		names = append(names, s.Name())
		if s.Name() == "one" && s.Info().PID != pids["one"] {
			t.Errorf("unchanged server one was restarted")
		}
	}
	if fmt.Sprint(names) != "[one three]" {
		t.Fatalf("after: %v", names)
	}
	if a.Runner.Catalog().Action("three.echo") == nil || a.Runner.Catalog().Action("two.echo") != nil {
		t.Fatal("the catalog does not follow the reload")
	}
	// A bad file keeps what was loaded.
	if err := os.WriteFile(path, []byte("mcp_server \"x\" {\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(context.Background()); err == nil {
		t.Fatal("a bad file reloaded")
	}
	if len(a.MCPServers.List()) != 2 {
		t.Fatalf("after a bad reload: %d servers", len(a.MCPServers.List()))
	}
}
