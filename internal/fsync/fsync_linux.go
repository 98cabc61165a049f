package fsync

import (
	"os"
	"syscall"
)

// Data flushes f's data (and its size, when it changed) to the disk,
// without the other metadata that fsync also writes: fdatasync(2).
func Data(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
