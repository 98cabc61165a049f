package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/toolhost/toolhost/host/core"
)

// TestOpenAPIDocumentIsValid loads the public document with kin-openapi and
// validates it, then checks it has a run operation per action.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/actions/specs/openapi", "", "x-api-key", "")
	e.wantStatus(r, 200)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(r.Body)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	path := "/v1/actions/" + core.ActionID("testkit", "echo") + "/run"
	item := doc.Paths.Find(path)
	if item == nil || item.Post == nil || item.Post.OperationID != "testkit_echo" {
		t.Fatalf("no run operation at %s", path)
	}
	schema := item.Post.RequestBody.Value.Content["application/json"].Schema.Value
	if schema.Properties["text"] == nil || len(schema.Required) != 1 {
		t.Fatalf("request schema %+v", schema)
	}
	if doc.Components.SecuritySchemes["apiKey"].Value.Name != "x-api-key" {
		t.Fatal("security scheme")
	}
}
