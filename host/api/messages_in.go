package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/toolhost/toolhost/host/domain"
)

// What clients post into threads: messages and metadata, checked.

// checkMetadata applies the Tool API's limits, naming the key at fault.
func checkMetadata(md map[string]json.RawMessage) (map[string]string, error) {
	if md == nil {
		return nil, nil
	}
	if len(md) > domain.MaxMetadataKeys {
		return nil, fieldErr("metadata", fmt.Sprintf("has %d keys; at most %d are allowed", len(md), domain.MaxMetadataKeys))
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(md))
	for _, k := range keys {
		field := "metadata." + k
		if len(k) > domain.MaxMetadataKeyLen {
			field = "metadata." + truncateRunes(k, 20) + "..."
			return nil, fieldErr(field, fmt.Sprintf("key is %d characters long; keys may have at most %d", utf8.RuneCountInString(k), domain.MaxMetadataKeyLen))
		}
		var v string
		if err := json.Unmarshal(md[k], &v); err != nil {
			return nil, fieldErr(field, "must be a string")
		}
		if len(v) > domain.MaxMetadataValueLen {
			return nil, fieldErr(field, fmt.Sprintf("value is %d characters long; values may have at most %d", len(v), domain.MaxMetadataValueLen))
		}
		out[k] = v
	}
	return out, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

type messageIn struct {
	Role     *string                    `json:"role"`
	Content  json.RawMessage            `json:"content"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// message checks a message a client posts: role user or assistant, and
// content (a string, or an array of text parts).
func (in messageIn) message(prefix string) (*domain.Message, error) {
	if in.Role == nil || *in.Role == "" {
		return nil, fieldErr(prefix+"role", `is required: "user" or "assistant"`)
	}
	if *in.Role != "user" && *in.Role != "assistant" {
		return nil, fieldErr(prefix+"role", fmt.Sprintf(`must be "user" or "assistant", not %q (tool messages come from runs)`, *in.Role))
	}
	content, err := contentText(in.Content)
	if err != nil {
		return nil, fieldErr(prefix+"content", err.Error())
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		f := domain.AsError(err)
		return nil, fieldErr(prefix+f.Fields[0].Field, f.Fields[0].Message)
	}
	return &domain.Message{Role: *in.Role, Content: content, Metadata: md}, nil
}

func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", fmt.Errorf("is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("must not be empty")
		}
		return s, nil
	}
	var parts []struct {
		Type    string          `json:"type"`
		RawText json.RawMessage `json:"text"` // "..." or {"value":"..."}
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", fmt.Errorf("must be a string")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("has a %q part; only text is supported", p.Type)
		}
		var t string
		if json.Unmarshal(p.RawText, &t) != nil {
			var obj struct {
				Value string `json:"value"`
			}
			if json.Unmarshal(p.RawText, &obj) != nil {
				return "", fmt.Errorf("text parts need a text string")
			}
			t = obj.Value
		}
		b.WriteString(t)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("must not be empty")
	}
	return b.String(), nil
}
