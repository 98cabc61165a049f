package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// decodeObject reads a JSON object body into dst. An empty body is an
// error unless emptyOK; then dst stays as it is.
func decodeObject(r *http.Request, dst any, emptyOK bool, what string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if emptyOK {
			return nil
		}
		return domain.Errorf(domain.CodeInvalidRequest, "request body is empty; send a JSON object %s", what)
	}
	if body[0] != '{' {
		return domain.Errorf(domain.CodeInvalidRequest, "%s", core.NotAnObject(body, what))
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErr(te.Field, "must be "+jsonTypeName(te.Type.String())+", not "+te.Value)
		}
		return domain.WrapError(err, domain.CodeInvalidRequest, "request body is not valid JSON: %v", err)
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "struct"):
		return "an object"
	case goType == "bool", goType == "*bool":
		return "a boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	}
	return "of type " + goType
}
