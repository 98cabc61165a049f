package api

import (
	"bytes"
	"encoding/json"
)

// orderedProps is a JSON object that keeps its keys in order, so specs list
// parameters as the plugin declared them.
type orderedProps []kv

type kv struct {
	Key   string
	Value any
}

func (o orderedProps) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(e.Key)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(e.Value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// itemsOf returns a property's "items" schema, if it has one.
func itemsOf(raw json.RawMessage) json.RawMessage {
	var p struct {
		Items json.RawMessage `json:"items"`
	}
	if json.Unmarshal(raw, &p) != nil || len(p.Items) == 0 {
		return nil
	}
	return p.Items
}
