package store

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (and the size, when it changed) to the disk,
// without the other metadata that fsync also writes.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
