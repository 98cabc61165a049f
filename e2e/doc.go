// Package e2e holds end-to-end tests that build the real binaries (the
// toolhost command, the testkit, gmail and slack plugins), start `toolhost
// serve` as a process on a loopback port, and talk to it over HTTP and with
// signals: the Connery-compatible routes, graceful and abrupt stops, crash
// recovery of run history, retention under a soak, and benchmarks of the
// run route.
//
// The package has no non-test code; run it with
//
//	go test -race ./e2e
//	go test -run '^$' -bench . -benchtime 3s ./e2e
package e2e
