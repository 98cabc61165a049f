// Command mcpserver is a small MCP server over stdio for the tests (see
// package mcptools for its tools). MCPTEST_MODE changes how it misbehaves:
// "junk" writes a line that is not JSON-RPC to stdout first, "silent"
// never answers, "crash" exits at once, "spawn" starts a grandchild
// (sleep 300) before serving.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/internal/testplugins/mcpserver/mcptools"
)

func main() {
	fmt.Fprintln(os.Stderr, "testmcp starting; token", os.Getenv("SECRET_TOKEN"))
	switch os.Getenv("MCPTEST_MODE") {
	case "junk":
		fmt.Println("hello from a server that logs to stdout")
	case "silent":
		_, _ = io.Copy(io.Discard, os.Stdin)
		return
	case "crash":
		fmt.Fprintln(os.Stderr, "cannot start: no database")
		os.Exit(3)
	case "spawn":
		if err := exec.Command("sleep", "300").Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if err := mcptools.New().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
