package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Param is the Connery view of one top-level schema property.
type Param struct {
	Key         string     `json:"key"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Type        string     `json:"type"`
	Validation  Validation `json:"validation"`
}

// Validation holds Connery's per-parameter validation rules.
type Validation struct {
	Required bool `json:"required"`
}

// Property is one top-level property of an object schema, in document order.
type Property struct {
	Key         string
	Title       string
	Description string
	Type        string
	Enum        []any
	Raw         json.RawMessage
}

// Schema is a parsed object schema that keeps its properties in the order the
// plugin declared them (Connery clients show parameters in that order).
type Schema struct {
	Raw        json.RawMessage
	Properties []Property
	Required   []string
}

var allowedTypes = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true, "array": true, "object": true,
}

// ParseSchema checks that raw is an object schema whose top-level properties
// each have a supported type, and returns it with ordered properties.
func ParseSchema(raw json.RawMessage) (*Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("missing")
	}
	var top struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON Schema object: %v", err)
	}
	if top.Type != "object" {
		return nil, fmt.Errorf("type must be \"object\", got %q", top.Type)
	}
	s := &Schema{Raw: raw, Required: top.Required}
	if len(top.Properties) > 0 && !bytes.Equal(bytes.TrimSpace(top.Properties), []byte("null")) {
		props, err := orderedProperties(top.Properties)
		if err != nil {
			return nil, err
		}
		s.Properties = props
	}
	for _, r := range s.Required {
		if s.Property(r) == nil {
			return nil, fmt.Errorf("required property %q is not defined", r)
		}
	}
	return s, nil
}

func orderedProperties(raw json.RawMessage) ([]Property, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("properties must be an object")
	}
	var props []Property
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("properties: %v", err)
		}
		key, _ := tok.(string)
		var p Property
		if err := dec.Decode(&p.Raw); err != nil {
			return nil, fmt.Errorf("properties.%s: %v", key, err)
		}
		if seen[key] {
			return nil, fmt.Errorf("properties.%s: duplicate property", key)
		}
		seen[key] = true
		if err := p.fill(key); err != nil {
			return nil, err
		}
		props = append(props, p)
	}
	return props, nil
}

func (p *Property) fill(key string) error {
	var body struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Type        any    `json:"type"`
		Enum        []any  `json:"enum"`
	}
	if err := json.Unmarshal(p.Raw, &body); err != nil {
		return fmt.Errorf("properties.%s: %v", key, err)
	}
	t, ok := body.Type.(string)
	if !ok || !allowedTypes[t] {
		return fmt.Errorf("properties.%s: type must be one of string, number, integer, boolean, array, object", key)
	}
	p.Key, p.Title, p.Description, p.Type, p.Enum = key, body.Title, body.Description, t, body.Enum
	return nil
}

// Property returns the named top-level property, or nil.
func (s *Schema) Property(key string) *Property {
	for i := range s.Properties {
		if s.Properties[i].Key == key {
			return &s.Properties[i]
		}
	}
	return nil
}

// IsRequired reports whether key is a required property.
func (s *Schema) IsRequired(key string) bool {
	for _, r := range s.Required {
		if r == key {
			return true
		}
	}
	return false
}

// Params returns the Connery parameter list for the schema.
func (s *Schema) Params() []Param {
	out := make([]Param, 0, len(s.Properties))
	for _, p := range s.Properties {
		title := p.Title
		if title == "" {
			title = p.Key
		}
		out = append(out, Param{
			Key: p.Key, Title: title, Description: p.Description, Type: p.Type,
			Validation: Validation{Required: s.IsRequired(p.Key)},
		})
	}
	return out
}
