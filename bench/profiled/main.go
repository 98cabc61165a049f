// Command profiled is toolhost (the same cli.Run as cmd/toolhost) with a
// CPU profile written to $TOOLHOST_BENCH_CPUPROFILE from start to exit. The
// harness uses it for its load server with -cpuprofile; read the result
// with `go tool pprof -top FILE`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/toolhost/toolhost/internal/cli"
)

func main() {
	if path := os.Getenv("TOOLHOST_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "profiled:", err)
			os.Exit(1)
		}
		defer f.Close()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}
