package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/toolhost/toolhost/host/core"
)

// openAPISpec answers an OpenAPI 3.1 document with one run operation per
// action, importable as GPT Actions. It is public: it describes, it does
// not run.
func (s *server) openAPISpec(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, openAPIDocument(s.runner.Catalog(), serverURL(r), s.cfg.Version))
}

func serverURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func openAPIDocument(cat *core.Catalog, url, version string) map[string]any {
	paths := map[string]any{}
	for _, a := range cat.Actions() {
		paths["/v1/actions/"+a.ID+"/run"] = map[string]any{"post": runOperation(a)}
	}
	if version == "" {
		version = "dev"
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "toolhost actions",
			"version":     version,
			"description": "Run the actions installed on this toolhost runner.",
		},
		"servers":  []any{map[string]any{"url": url}},
		"security": []any{map[string]any{"apiKey": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "x-api-key"},
			},
			"schemas": map[string]any{
				"Error": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"status": map[string]any{"type": "string", "const": "error"},
						"error": map[string]any{"type": "object", "properties": map[string]any{
							"message": map[string]any{"type": "string"},
							"code":    map[string]any{"type": "string"},
						}, "required": []any{"message", "code"}},
					},
					"required": []any{"status", "error"},
				},
			},
		},
	}
}

func runOperation(a *core.Action) map[string]any {
	errRef := map[string]any{"content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	withDesc := func(d string) map[string]any {
		m := map[string]any{"description": d}
		for k, v := range errRef {
			m[k] = v
		}
		return m
	}
	return map[string]any{
		"operationId": operationID(a),
		"summary":     a.Title,
		"description": titled(a.Title, a.Description),
		"requestBody": map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": json.RawMessage(a.Input.Raw)}},
		},
		"responses": map[string]any{
			"200": map[string]any{"description": "The action ran.", "content": map[string]any{"application/json": map[string]any{
				"schema": map[string]any{"type": "object", "properties": map[string]any{
					"status": map[string]any{"type": "string", "const": "success"},
					"data": map[string]any{"type": "object", "properties": map[string]any{
						"output": json.RawMessage(a.Output),
						"run_id": map[string]any{"type": "string"},
					}},
				}},
			}}},
			"400": withDesc("The input is not valid; error.message names each field."),
			"401": withDesc("The API key is missing or not valid."),
			"403": withDesc("The API key lacks the run scope."),
			"429": withDesc("Over the key's rate limit, or the run queue is full; Retry-After says when to try again."),
			"500": withDesc("The action failed inside the plugin."),
			"502": withDesc("The plugin is not available."),
			"504": withDesc("The action timed out."),
		},
	}
}

// operationID is the alias with the dot replaced, as GPT Actions want
// ^[a-zA-Z0-9_-]+$.
func operationID(a *core.Action) string {
	return strings.ReplaceAll(a.Alias, ".", "_")
}
