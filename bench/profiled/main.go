// Command profiled is toolhost (the same cli.Run as cmd/toolhost) with a
// CPU profile written to $TOOLHOST_BENCH_CPUPROFILE from start to exit, and
// block and mutex profiles next to it (FILE.block, FILE.mutex) at exit. The
// harness uses it for its load server with -cpuprofile; read the results
// with `go tool pprof -top FILE` (or FILE.block, FILE.mutex).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/toolhost/toolhost/internal/cli"
)

func main() {
	path := os.Getenv("TOOLHOST_BENCH_CPUPROFILE")
	if path != "" {
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
		runtime.SetBlockProfileRate(10_000) // one sample per 10 µs blocked, on average
		runtime.SetMutexProfileFraction(10)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if path != "" {
		pprof.StopCPUProfile()
		for _, name := range []string{"block", "mutex"} {
			if err := writeProfile(name, path+"."+name); err != nil {
				fmt.Fprintln(os.Stderr, "profiled:", err)
			}
		}
	}
	os.Exit(code)
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
