// Command envecho prints its X_ environment entries to stderr and exits
// before the handshake: a plugin that dies at start, echoing its secrets.
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "X_") {
			fmt.Fprintf(os.Stderr, "cannot start with %s (%q)\n", e, e)
		}
	}
	os.Exit(1)
}
