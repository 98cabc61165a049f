package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The official MCP conformance suite, pinned, and the Node it needs
// (≥ 22; the npm package node@22 provides it where the machine's is
// older).
const (
	conformanceVersion = "0.1.16"
	conformanceNode    = "22.23.3"
	conformanceSpec    = "2025-11-25"
)

// unsupportedThroughToolhost are the suite's server scenarios that pass
// against the go-sdk's everything-server but not through toolhost's
// /mcp/{server}, and why. /mcp is stateless Streamable HTTP (each POST
// stands alone, any replica can answer it), so nothing the server sends
// outside the answer to a request can reach the client.
var unsupportedThroughToolhost = map[string]string{
	"tools-call-sampling":          "sampling/createMessage is a server-to-client request: not relayed (a stateless door has no session to carry the client's answer)",
	"tools-call-elicitation":       "elicitation/create is a server-to-client request: not relayed",
	"elicitation-sep1034-defaults": "elicitation/create is a server-to-client request: not relayed",
	"elicitation-sep1330-enums":    "elicitation/create is a server-to-client request: not relayed",
	"resources-subscribe":          "resources/subscribe needs a session to deliver notifications/resources/updated: not offered",
	"resources-unsubscribe":        "resources/unsubscribe: subscriptions are not offered (see resources-subscribe)",
	"server-sse-multiple-streams":  "needs the standalone GET stream and session ids of stateful Streamable HTTP; /mcp is stateless (GET is 405)",
}

// TestMCPConformanceThroughToolhost runs the official MCP conformance
// suite's server scenarios against the go-sdk's everything-server directly
// (stateful Streamable HTTP) and through toolhost's /mcp/{server} hosting
// the same server over stdio, and checks every scenario that passes
// directly passes through toolhost, except those in
// unsupportedThroughToolhost.
func TestMCPConformanceThroughToolhost(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite installs npm packages and takes a while")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the MCP conformance suite needs node and npm")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the MCP conformance suite needs node and npm")
	}
	node, suite := conformanceSuite(t, npm)
	server := filepath.Join(t.TempDir(), "everything-server")
	build := exec.Command("go", "build", "-o", server, "github.com/modelcontextprotocol/go-sdk/conformance/everything-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the go-sdk's everything-server: %v\n%s", err, out)
	}

	direct := runConformance(t, node, suite, directEverything(t, server))

	p := startServe(t, serveOpts{Config: serveConfig{Raw: fmt.Sprintf("mcp_server \"everything\" {\n  command = [%q]\n  timeout = \"30s\"\n}\n", server)}})
	through := runConformance(t, node, suite, keyedProxy(t, p.URL+"/mcp/everything", p.Key))

	var lost []string
	for _, name := range sortedKeys(direct) {
		ok, reason := through[name], unsupportedThroughToolhost[name]
		t.Logf("%-32s direct: %-4s toolhost: %-4s %s", name, passFail(direct[name]), passFail(ok), reason)
		if direct[name] && !ok && reason == "" {
			lost = append(lost, name)
		}
	}
	if len(direct) == 0 {
		t.Fatal("the suite ran no scenario against the server directly")
	}
	if len(lost) > 0 {
		t.Fatalf("scenarios that pass against the server directly but not through toolhost: %v", lost)
	}
}

// conformanceSuite installs (once, in the user cache) the pinned suite and
// Node, and returns the node binary and the suite's entry point.
func conformanceSuite(t *testing.T, npm string) (node, suite string) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "toolhost-e2e", "mcp-conformance-"+conformanceVersion+"-node-"+conformanceNode)
	node = filepath.Join(dir, "node_modules", ".bin", "node")
	suite = filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	if _, err := os.Stat(suite); err == nil {
		if _, err := os.Stat(node); err == nil {
			return node, suite
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", dir,
		"node@"+conformanceNode, "@modelcontextprotocol/conformance@"+conformanceVersion)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install node@%s @modelcontextprotocol/conformance@%s: %v\n%s", conformanceNode, conformanceVersion, err, out)
	}
	return node, suite
}

// directEverything starts the everything-server on a free loopback port
// (stateful, as the go-sdk's own conformance script runs it) and returns
// its MCP URL once it accepts connections.
func directEverything(t *testing.T, bin string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "-http="+addr, "-stateless=false")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return "http://" + addr + "/mcp"
		}
		if time.Now().After(end) {
			t.Fatalf("the everything-server did not listen on %s", addr)
		}
	}
}

// keyedProxy is a loopback reverse proxy to target that adds the API key
// (the suite sends none) and passes Host and Origin unchanged, so the
// suite's DNS-rebinding checks reach toolhost as they were sent.
func keyedProxy(t *testing.T, target, key string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{FlushInterval: -1, Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.URL.Path, r.Out.URL.RawPath = u.Path, ""
		r.Out.Host = r.In.Host
		r.Out.Header.Set("Authorization", "Bearer "+key)
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String() + "/mcp"
}

var summaryRe = regexp.MustCompile(`(?m)^[✓✗] ([a-z0-9-]+): (\d+) passed, (\d+) failed`)

// runConformance runs the suite's server scenarios against url and
// returns each scenario's outcome (passed: every check passed).
func runConformance(t *testing.T, node, suite, target string) map[string]bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "results")
	cmd := exec.CommandContext(ctx, node, suite, "server", "--url", target, "--spec-version", conformanceSpec, "-o", out)
	cmd.Dir = t.TempDir()
	cmd.WaitDelay = 5 * time.Second
	b, err := cmd.CombinedOutput()
	res := map[string]bool{}
	for _, m := range summaryRe.FindAllStringSubmatch(string(b), -1) {
		passed, _ := strconv.Atoi(m[2])
		failed, _ := strconv.Atoi(m[3])
		res[m[1]] = failed == 0 && passed > 0
	}
	if len(res) == 0 {
		t.Fatalf("conformance suite against %s gave no summary (%v):\n%s", target, err, tail(string(b), 8000))
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("conformance suite against %s:\n%s", target, tail(string(b), 4000))
	}
	for name, ok := range res {
		if !ok {
			t.Logf("scenario %s failed against %s; details: %s", name, target, failedChecks(out, name))
		}
	}
	return res
}

// failedChecks is the failing checks of a scenario's results, for the log.
func failedChecks(dir, scenario string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "server-"+scenario+"-*", "checks.json"))
	var parts []string
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err == nil {
			parts = append(parts, tail(string(b), 1500))
		}
	}
	return strings.Join(parts, "\n")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "FAIL"
}
