//go:build !linux

package fsync

import "os"

// Data flushes f to the disk (fsync where fdatasync is not offered).
func Data(f *os.File) error { return f.Sync() }
