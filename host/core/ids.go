package core

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// PluginID is the Connery-style id of a plugin: "CP" and the first 30 hex
// digits (upper case) of sha256(name).
func PluginID(name string) string { return "CP" + hash30(name) }

// ActionID is the Connery-style id of an action: "CA" and the first 30 hex
// digits of sha256(plugin + ":" + key).
func ActionID(plugin, key string) string { return "CA" + hash30(plugin+":"+key) }

func hash30(s string) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:30]
}
