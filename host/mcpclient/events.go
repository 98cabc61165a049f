package mcpclient

import (
	"encoding/json"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// A progress or log notification becomes a run event whose fields keep
// the notification as the server sent it, under "mcp" (secrets
// scrubbed): {"mcp":{"progress":1,"total":3,"message":"..."}} or
// {"mcp":{"level":"notice","logger":"...","data":...}}. History has them,
// and /mcp/{server} relays them unchanged.
const notificationField = "mcp"

// progressFields are the event fields of a progress notification.
func (s *Server) progressFields(p *mcp.ProgressNotificationParams) json.RawMessage {
	n := map[string]any{"progress": p.Progress}
	if p.Total != 0 {
		n["total"] = p.Total
	}
	if p.Message != "" {
		n["message"] = p.Message
	}
	return notificationFields(n, s.scrub)
}

// logFields are the event fields of a log notification.
func (s *Server) logFields(p *mcp.LoggingMessageParams) json.RawMessage {
	n := map[string]any{"level": p.Level, "data": p.Data}
	if p.Logger != "" {
		n["logger"] = p.Logger
	}
	return notificationFields(n, s.scrub)
}

func notificationFields(n map[string]any, scrub func(string) string) json.RawMessage {
	raw, err := json.Marshal(map[string]any{notificationField: n})
	if err != nil {
		return nil
	}
	if scrub != nil {
		clean := scrub(string(raw))
		if !json.Valid([]byte(clean)) {
			return nil
		}
		raw = []byte(clean)
	}
	return raw
}
