// Package api is toolhost's HTTP edge: the Connery-compatible v1 routes,
// runs (blocking, non-blocking, streamed as Server-Sent Events) and their
// history, and the admin routes. Every route is registered in routes.go;
// every answer is a JSON envelope, errors included, and one table in
// respond.go maps error codes to HTTP statuses. Every /v1 route but the
// OpenAPI document needs an API key holding the route's scope (routeScope:
// admin, read or run).
package api
