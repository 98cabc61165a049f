package app

import (
	"net/http"

	"github.com/toolhost/toolhost/host/mcp"
)

// doors is the host's one handler: /mcp and /mcp/{plugin} go to the MCP
// door, everything else to the HTTP API.
func doors(api http.Handler, m *mcp.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mcp.Mounted(r.URL.Path) {
			m.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
