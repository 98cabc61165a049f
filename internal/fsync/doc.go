// Package fsync flushes files to the disk the cheapest way the platform
// offers. The store's run journal, the benchmark harness and its durable
// floor share it, so that they measure the same system call.
package fsync
