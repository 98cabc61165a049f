package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goCommand is the go command, or a skip when there is none.
func goCommand(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	return gobin
}

func goIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCommand(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// TestWritingAPlugin follows the README's "Writing a plugin" from
// toolhost plugin new to a run over HTTP: the scaffold's tests pass, it
// builds, installs, is configured by a block without path, and answers.
func TestWritingAPlugin(t *testing.T) {
	goCommand(t)
	dir := filepath.Join(t.TempDir(), "greeter")
	r := must(t, run(t, nil, "plugin", "new", "greeter", "--dir", dir), ExitOK)
	contains(t, "plugin new", r.stdout, "Wrote plugin greeter", "go test ./...", "toolhost plugin install "+filepath.Join(dir, "greeter")+"\n",
		"plugin \"greeter\" {\n      config = { salutation = \"Hello\" }")
	for _, f := range []string{"main.go", "main_test.go", "go.mod", "go.sum", "README.md", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("scaffold lacks %s", f)
		}
	}
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	root, _ := filepath.Abs("../..")
	contains(t, "go.mod", string(gomod), "module greeter\n", "replace github.com/toolhost/toolhost => "+root+"\n")

	out := goIn(t, dir, "test", "-count=1", "-v", "./...")
	contains(t, "go test", out, "--- PASS: TestGreet ", "--- PASS: TestGreetNamesTheBadField", "--- PASS: TestGreetNeedsItsConfig", "ok  \tgreeter")
	goIn(t, dir, "vet", "./...")
	goIn(t, dir, "build", "-o", "greeter", ".")
	bin := filepath.Join(dir, "greeter")

	// Started by hand, the binary says how to install and configure it.
	hint, _ := exec.Command(bin).CombinedOutput()
	contains(t, "by-hand hint", string(hint), "toolhost plugin install "+bin, "config = {", "salutation", "without path")

	s := newSite(t)
	must(t, run(t, nil, s.args("plugin", "install", bin)...), ExitOK)
	hcl, _ := os.ReadFile(s.cfg)
	hcl = append(hcl, "plugin \"greeter\" {\n  config = { salutation = \"Hello\" }\n}\n"...)
	if err := os.WriteFile(s.cfg, hcl, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := s.start(t)
	data := srv.post(t, "/v1/actions/greeter.greet/run", `{"name":"Ada"}`)
	if out, _ := data["output"].(map[string]any); out["greeting"] != "Hello, Ada" {
		t.Fatalf("run answered %v", data)
	}
}

func TestPluginNewRefusesBadArguments(t *testing.T) {
	tmp := t.TempDir()
	full := filepath.Join(tmp, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "keep.txt"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plugin", "new"}, "plugin name"},
		{[]string{"plugin", "new", "Greeter"}, `plugin name "Greeter" must match`},
		{[]string{"plugin", "new", "1abc"}, `plugin name "1abc" must match`},
		{[]string{"plugin", "new", "ok", "--dir", full}, full + " already exists and is not empty"},
		{[]string{"plugin", "new", "ok", "--dir", filepath.Join(tmp, "x"), "--sdk", tmp}, "--sdk " + tmp + ": no go.mod there"},
	} {
		r := must(t, run(t, nil, tc.args...), ExitUsage)
		contains(t, strings.Join(tc.args, " "), r.stderr, tc.want)
	}
	os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644)
	r := must(t, run(t, nil, "plugin", "new", "ok", "--dir", filepath.Join(tmp, "y"), "--sdk", tmp), ExitUsage)
	contains(t, "other module", r.stderr, "its go.mod is module example.com/other, not github.com/toolhost/toolhost")
	if _, err := os.Stat(filepath.Join(tmp, "y")); err == nil {
		t.Error("a refused plugin new wrote its directory")
	}
}

func TestTitleOf(t *testing.T) {
	for in, want := range map[string]string{"greeter": "Greeter", "my-tool": "My tool", "a_b-c": "A b c", "x--": "X"} {
		if got := titleOf(in); got != want {
			t.Errorf("titleOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestREADMEExampleIsTheScaffold keeps the README's "Writing a plugin"
// example the file toolhost plugin new greeter writes, which
// TestWritingAPlugin compiles and tests.
func TestREADMEExampleIsTheScaffold(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	i := strings.Index(section, "## Writing a plugin")
	if i < 0 {
		t.Fatal("README has no \"## Writing a plugin\" section")
	}
	section = section[i:]
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal("\"Writing a plugin\" has no go block")
	}
	want, err := renderScaffold("main.go.tmpl", scaffold{Name: "greeter", Title: "Greeter"})
	if err != nil {
		t.Fatal(err)
	}
	if block[1] != string(want) {
		t.Errorf("README's example differs from the scaffold's main.go; make them the same.\nREADME:\n%s\nscaffold:\n%s", block[1], want)
	}
	for _, s := range []string{"toolhost plugin new greeter", "sdktest.New(t, plugin,", "without `path`", "replace github.com/toolhost/toolhost =>"} {
		if !strings.Contains(section, s) {
			t.Errorf("\"Writing a plugin\" does not say %q", s)
		}
	}
}
