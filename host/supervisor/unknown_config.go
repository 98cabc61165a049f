package supervisor

import (
	"fmt"
	"sort"
	"strings"

	"github.com/toolhost/toolhost/internal/manifest"
)

// unknownConfigKeys describes each key of config that the plugin does not
// declare, with the declared key it was probably meant to be:
// `unknown config key "salutaton" (did you mean "salutation"?)`.
func unknownConfigKeys(m *manifest.Plugin, config map[string]string) []string {
	known := make([]string, 0, len(m.Config))
	for _, c := range m.Config {
		known = append(known, c.Key)
	}
	var out []string
	for key := range config {
		if containsKey(known, key) {
			continue
		}
		msg := fmt.Sprintf("unknown config key %q", key)
		if near := closestKey(key, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", near)
		} else if len(known) == 0 {
			msg += " (the plugin takes no configuration)"
		} else {
			msg += " (it takes " + strings.Join(known, ", ") + ")"
		}
		out = append(out, msg)
	}
	sort.Strings(out)
	return out
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// closestKey returns the known key nearest to key when it is near enough to
// be a slip: the same but for case, or within a third of its length in
// edits (at least 1, at most 3).
func closestKey(key string, known []string) string {
	best, bestDist := "", 0
	limit := min(max(len(key)/3, 1), 3)
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
