//go:build !unix

package store

import "os"

// unlockFile does nothing here: only unix's flock is known to outlive
// Close while bbolt's memory map still refers to the file.
func unlockFile(*os.File) {}
