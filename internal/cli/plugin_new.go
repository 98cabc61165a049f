package cli

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/template"
	"unicode"
)

// sdkModule is the module path of this repository, which holds the sdk.
const sdkModule = "github.com/toolhost/toolhost"

//go:embed scaffold/*.tmpl
var scaffoldFS embed.FS

// scaffoldFiles maps each template to the file it becomes.
var scaffoldFiles = []struct{ tmpl, file string }{
	{"main.go.tmpl", "main.go"},
	{"main_test.go.tmpl", "main_test.go"},
	{"go.mod.tmpl", "go.mod"},
	{"README.md.tmpl", "README.md"},
	{"gitignore.tmpl", ".gitignore"},
}

// scaffold is what the templates are filled with.
type scaffold struct {
	Name, Title, Module, GoVersion, SDK string
}

func pluginNew(e *env, args []string) error {
	fs := newFlags(e, "plugin new", "NAME [--dir D] [--module PATH] [--sdk DIR] [--no-tidy]")
	dir := fs.String("dir", "", "where to write the plugin's module (default: ./NAME)")
	module := fs.String("module", "", "the new module's path (default: NAME)")
	sdkDir := fs.String("sdk", "", "the toolhost checkout whose sdk the plugin uses (default: the one this binary was built from)")
	noTidy := fs.Bool("no-tidy", false, "do not run go mod tidy in the new module")
	name, err := parseOneArg(fs, args, "plugin name")
	if err != nil {
		return err
	}
	if !pluginNameRE.MatchString(name) {
		return fail(ExitUsage, "plugin name %q must match %s (lower case letters, digits, - and _; a letter first)", name, pluginNameRE)
	}
	if *dir == "" {
		*dir = name
	}
	if *module == "" {
		*module = name
	}
	root, err := findSDK(*sdkDir)
	if err != nil {
		return err
	}
	goVersion, err := goDirective(filepath.Join(root, "go.mod"))
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return fail(ExitUsage, "%s already exists and is not empty; pick another --dir", *dir)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fail(ExitFailed, "%v", err)
	}
	data := scaffold{Name: name, Title: titleOf(name), Module: *module, GoVersion: goVersion, SDK: root}
	for _, f := range scaffoldFiles {
		out, err := renderScaffold(f.tmpl, data)
		if err != nil {
			return fail(ExitFailed, "%v", err)
		}
		if err := os.WriteFile(filepath.Join(*dir, f.file), out, 0o644); err != nil {
			return fail(ExitFailed, "%v", err)
		}
	}
	fmt.Fprintf(e.stdout, "Wrote plugin %s in %s (its go.mod uses the sdk in %s).\n", name, *dir, root)
	if !*noTidy {
		if err := goModTidy(e, *dir); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		abs = *dir
	}
	fmt.Fprintf(e.stdout, "Next:\n    cd %s\n    go test ./...\n    go build -o %s .\n"+
		"then, where your plugins.hcl is (or with --config path/to/plugins.hcl; with TOOLHOST_API_KEY set while the server runs):\n"+
		"    toolhost plugin install %s\n"+
		"and configure it in plugins.hcl with a block without path:\n    plugin %q {\n      config = { salutation = \"Hello\" }\n    }\n",
		*dir, name, filepath.Join(abs, name), name)
	return nil
}

// renderScaffold fills one template.
func renderScaffold(name string, data scaffold) ([]byte, error) {
	// [[ ]] delimiters: the Go templates are full of {{ }}.
	t, err := template.New(name).Delims("[[", "]]").ParseFS(scaffoldFS, "scaffold/"+name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// goModTidy fills in go.sum and the sdk's own requirements.
func goModTidy(e *env, dir string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(e.stdout, "The go command is not on PATH: run `go mod tidy` in the new directory once it is.")
		return nil
	}
	cmd := exec.CommandContext(e.ctx, gobin, "mod", "tidy")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fail(ExitFailed, "the files are written, but `go mod tidy` in %s failed: %v\n%s", dir, err, out)
	}
	return nil
}

// findSDK returns the absolute path of a toolhost checkout: dir when given,
// else the checkout this binary was compiled from (the source path the
// compiler recorded), else the one holding the running binary (bin/toolhost),
// else one above the working directory.
func findSDK(dir string) (string, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fail(ExitUsage, "--sdk %s: %v", dir, err)
		}
		if err := isCheckout(abs); err != nil {
			return "", fail(ExitUsage, "--sdk %s: %v", dir, err)
		}
		return abs, nil
	}
	var tried []string
	try := func(d string) bool {
		if d == "" || !filepath.IsAbs(d) {
			return false
		}
		tried = append(tried, d)
		return isCheckout(d) == nil
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		if d := filepath.Dir(filepath.Dir(filepath.Dir(file))); try(d) { // internal/cli/plugin_new.go
			return d, nil
		}
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			if d := filepath.Dir(filepath.Dir(exe)); try(d) {
				return d, nil
			}
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if try(d) {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fail(ExitUsage, "cannot find a toolhost checkout for the sdk (looked in %s); "+
		"the module %s is not on the Go module proxy, so the new plugin needs one: pass --sdk DIR",
		strings.Join(tried, ", "), sdkModule)
}

// isCheckout checks that dir holds this repository's go.mod and sdk.
func isCheckout(dir string) error {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return errors.New("no go.mod there")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			if fields[1] != sdkModule {
				return fmt.Errorf("its go.mod is module %s, not %s", fields[1], sdkModule)
			}
			if _, err := os.Stat(filepath.Join(dir, "sdk", "serve.go")); err != nil {
				return errors.New("it has no sdk directory")
			}
			return nil
		}
	}
	return errors.New("its go.mod names no module")
}

// goDirective reads the go version a go.mod asks for.
func goDirective(path string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(src), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && fields[0] == "go" {
			return fields[1], nil
		}
	}
	return "", fmt.Errorf("%s has no go line", path)
}

// titleOf turns "my-tool" into "My tool".
func titleOf(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' })
	t := strings.Join(words, " ")
	if t == "" {
		return name
	}
	r := []rune(t)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
