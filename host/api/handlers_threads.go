package api

// threadRoutes registers /v1/threads, its messages and runs, and
// /v1/actions/identify.
func (s *server) threadRoutes(r muxRouter) {}
