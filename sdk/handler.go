package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// Handler runs an action. Build one with NewHandler.
type Handler interface {
	schemas() (actionSchemas, error)
	invoke(ctx context.Context, input []byte) (any, error)
}

type actionSchemas struct {
	input, output json.RawMessage
	secrets       []string
}

// NewHandler wraps a typed function as an action handler. In and Out must be
// structs; their JSON Schemas are derived from the fields and tags described
// in the package documentation.
func NewHandler[In, Out any](fn func(ctx context.Context, in In) (Out, error)) Handler {
	return typedHandler[In, Out]{fn: fn, secrets: secretIndexes(reflect.TypeFor[In]())}
}

type typedHandler[In, Out any] struct {
	fn      func(context.Context, In) (Out, error)
	secrets [][]int // indexes of In's secret string fields
}

func (h typedHandler[In, Out]) schemas() (actionSchemas, error) {
	var s actionSchemas
	var err error
	inType, outType := reflect.TypeFor[In](), reflect.TypeFor[Out]()
	if s.input, err = schemaFor(inType); err != nil {
		return s, fmt.Errorf("input type %s: %w", inType, err)
	}
	if s.output, err = schemaFor(outType); err != nil {
		return s, fmt.Errorf("output type %s: %w", outType, err)
	}
	s.secrets = secretFields(inType)
	return s, nil
}

// invoke decodes input, the one JSON pass over it on the plugin side,
// registers its secret fields' values, and calls the function.
func (h typedHandler[In, Out]) invoke(ctx context.Context, input []byte) (any, error) {
	var in In
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, &engine.Error{Code: CodeInvalidInput, Message: "input does not fit the action's input type: " + err.Error()}
	}
	if len(h.secrets) > 0 {
		v := reflect.ValueOf(&in).Elem()
		for v.Kind() == reflect.Pointer && !v.IsNil() {
			v = v.Elem()
		}
		if v.Kind() == reflect.Struct {
			for _, idx := range h.secrets {
				if f, err := v.FieldByIndexErr(idx); err == nil {
					engine.AddSecret(ctx, f.String())
				}
			}
		}
	}
	out, err := h.fn(ctx, in)
	if err != nil {
		return nil, engineError(err)
	}
	return out, nil
}

var reflector = &jsonschema.Reflector{
	ExpandedStruct:            true,
	DoNotReference:            true,
	AllowAdditionalProperties: false,
	Anonymous:                 true,
}

// schemaFor derives an object schema from a struct type.
func schemaFor(t reflect.Type) (raw json.RawMessage, err error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("must be a struct, not %s", t.Kind())
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot derive a JSON Schema: %v", r)
		}
	}()
	s := reflector.ReflectFromType(t)
	s.Version, s.ID = "", ""
	applyTags(s, t)
	if s.Properties == nil {
		s.Properties = jsonschema.NewProperties()
	}
	return json.Marshal(s)
}

// applyTags copies the title and description tags onto the properties,
// following nested structs, slices and pointers.
func applyTags(s *jsonschema.Schema, t reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
		if s.Items != nil {
			s = s.Items
		}
	}
	if t.Kind() != reflect.Struct || s == nil || s.Properties == nil {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		prop, ok := s.Properties.Get(jsonName(f))
		if !ok || prop == nil {
			continue
		}
		if v, ok := f.Tag.Lookup("title"); ok {
			prop.Title = v
		}
		if v, ok := f.Tag.Lookup("description"); ok {
			prop.Description = v
		}
		applyTags(prop, f.Type)
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// secretIndexes returns the indexes of t's secret fields of kind string.
func secretIndexes(t reflect.Type) [][]int {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out [][]int
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("toolhost") == "secret" && f.Type.Kind() == reflect.String {
			out = append(out, f.Index)
		}
	}
	return out
}

func secretFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Tag.Get("toolhost") == "secret" {
			out = append(out, jsonName(f))
		}
	}
	return out
}
