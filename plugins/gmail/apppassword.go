package main

import "regexp"

// appPasswordDisplay is how Google shows an app password: four groups of
// four letters separated by spaces. The spaces are not part of it.
var appPasswordDisplay = regexp.MustCompile(`^[a-z]{4}( [a-z]{4}){3}$`)

// normalizeAppPassword removes the display spaces from an app password
// pasted as Google shows it, and leaves any other password as it is.
func normalizeAppPassword(pw string) string {
	if !appPasswordDisplay.MatchString(pw) {
		return pw
	}
	out := make([]byte, 0, 16)
	for i := 0; i < len(pw); i++ {
		if pw[i] != ' ' {
			out = append(out, pw[i])
		}
	}
	return string(out)
}
