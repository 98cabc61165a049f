package domain

import "encoding/json"

// AppendJSONString appends s as encoding/json quotes it (HTML escaping
// on), for other encoders of records and events. Strings of printable
// ASCII that HTML does not mind are copied; others are left to
// encoding/json.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainStringByte[s[i]] {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainStringByte holds the bytes encoding/json copies into a string
// as they are (with HTML escaping on).
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()
