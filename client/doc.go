// Package client is a typed Go client for toolhost's HTTP API: the
// Connery-compatible routes, runs and their event streams, keys. The
// toolhost CLI, the end-to-end tests and the benchmark use it, and it is
// what a Go integrator imports.
//
//	c := client.New("http://127.0.0.1:4201", os.Getenv("TOOLHOST_API_KEY"))
//	ans, err := c.RunAction(ctx, "gmail.sendEmail", map[string]any{"to": "a@example.com"}, client.RunOptions{})
//
// Every error answer comes back as an *Error carrying the HTTP status, the
// API's error code, the message, the fields at fault and the run's id.
package client
