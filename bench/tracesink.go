package main

import (
	"io"
	"net"
	"net/http"
)

// startTraceSink serves an OTLP/HTTP endpoint that takes every export and
// drops it, so that -tracing measures what tracing costs toolhost (spans
// made, batched, encoded and sent) and not a collector. It returns its
// host:port; it runs until the bench exits.
func startTraceSink() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK)
		}))
	}()
	return ln.Addr().String(), nil
}
