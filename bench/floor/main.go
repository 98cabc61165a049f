// Command floor is the benchmark's floor: the least a runner can do to serve
// an action over HTTP. It starts plugin processes with go-plugin (the same
// handshake, plugin set and gRPC options as toolhost, from internal/pluginrpc)
// and answers POST /v1/actions/{plugin.action}/run with one gRPC Run call.
// There is no auth, no schema check, no history, no log line per request.
//
//	floor -plugin ./testkit -plugins 2 -listen 127.0.0.1:0
//
// With -fsync FILE it is the durable floor: before each answer it writes the
// answer to FILE at offset 0 and fdatasyncs it, one caller at a time. That
// is the least a runner that makes a read run's record durable before it
// answers (DESIGN.md's rule) can add to the floor.
//
// It prints "floor listening on http://ADDR" and "ready" on stdout once
// every plugin has completed its handshake, and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/toolhost/toolhost/internal/fsync"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "listen address")
	path := fs.String("plugin", "", "plugin binary")
	n := fs.Int("plugins", 1, "start the binary this many times, named NAME, NAME2, NAME3, ...")
	name := fs.String("name", "testkit", "plugin name used in action ids (NAME.actionKey)")
	mtls := fs.Bool("mtls", false, "go-plugin AutoMTLS on the plugin connections")
	fsyncPath := fs.String("fsync", "", "make each answer durable in this file (write + fdatasync) before sending it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	record, closeRecord, err := recorder(*fsyncPath)
	if err != nil {
		return err
	}
	defer closeRecord()
	if *path == "" {
		return errors.New("-plugin is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer plugin.CleanupClients()

	clients := make(map[string]pb.PluginClient, *n)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	for i := 1; i <= *n; i++ {
		pname := *name
		if i > 1 {
			pname = fmt.Sprintf("%s%d", *name, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := launch(*path, *mtls)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("plugin %s: %w", pname, err)
			}
			clients[pname] = c
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/actions/{id}/run", func(w http.ResponseWriter, r *http.Request) {
		serveRun(w, r, clients, record)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("floor listening on http://%s\n", ln.Addr())
	fmt.Println("ready")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// launch starts one plugin process and completes the handshake.
func launch(path string, mtls bool) (pb.PluginClient, error) {
	cmd := exec.Command(path)
	isolate(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: pluginrpc.PluginSets(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         mtls,
		Managed:          true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "floor", Output: os.Stderr, Level: hclog.Warn}),
		GRPCDialOptions:  pluginrpc.DialOptions(),
	})
	proto, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, err
	}
	raw, err := proto.Dispense(pluginrpc.PluginKey)
	if err != nil {
		client.Kill()
		return nil, err
	}
	c, ok := raw.(pb.PluginClient)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("plugin served %T", raw)
	}
	return c, nil
}

// recorder returns what makes an answer durable before it is sent: nothing
// without a path, else a write at offset 0 of the file and an fdatasync
// (overwriting in place, so that the file's size does not change after the
// first write: the cheapest durable write ext4 offers).
func recorder(path string) (record func([]byte) error, closeFn func(), err error) {
	if path == "" {
		return func([]byte) error { return nil }, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	record = func(b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, err := f.WriteAt(b, 0); err != nil {
			return err
		}
		return fsync.Data(f)
	}
	return record, func() { f.Close() }, nil
}

// serveRun is the whole floor: read {"input":{...}}, one gRPC call, write
// the output (durable first with -fsync).
func serveRun(w http.ResponseWriter, r *http.Request, clients map[string]pb.PluginClient, record func([]byte) error) {
	pname, action, ok := strings.Cut(r.PathValue("id"), ".")
	c := clients[pname]
	if !ok || c == nil {
		http.Error(w, `{"status":"error","error":{"message":"unknown action","code":"not_found"}}`, http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, `{"status":"error","error":{"message":"bad body","code":"invalid_request"}}`, http.StatusBadRequest)
		return
	}
	var req struct {
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Input) == 0 {
		http.Error(w, `{"status":"error","error":{"message":"bad body","code":"invalid_request"}}`, http.StatusBadRequest)
		return
	}
	// No schema check here, and none in the plugin: the request says the
	// input was checked (protocol v2), as toolhost's does. The plugin runs
	// with its configuration unset, which the bench's plugin does not need.
	stream, err := c.Run(r.Context(), &pb.RunRequest{Action: action, InputJson: req.Input, InputChecked: true})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		res, ok := ev.Event.(*pb.RunEvent_Result)
		if !ok {
			continue
		}
		if res.Result.Error != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"status":"error","error":{"message":%q,"code":"action_failed"}}`, res.Result.Error.Message)
			return
		}
		// The same shape as toolhost's answer (Connery's, which echoes the
		// input back under "used"), so both put the same bytes on the wire.
		out := res.Result.OutputJson
		w.Header().Set("Content-Type", "application/json")
		buf := make([]byte, 0, len(out)+len(req.Input)+100)
		buf = append(buf, `{"status":"success","data":{"output":`...)
		buf = append(buf, out...)
		buf = append(buf, `,"used":{"actionId":`...)
		buf = strconv.AppendQuote(buf, r.PathValue("id"))
		buf = append(buf, `,"input":`...)
		buf = append(buf, req.Input...)
		buf = append(buf, "}}}"...)
		if err := record(buf); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(buf)
		return
	}
}
