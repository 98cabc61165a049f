package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// A CPU cap stands for a machine of a replica's own: the replica and its
// plugins get at most a fixed share of CPU time (a cgroup's CFS quota),
// whatever else runs on this machine, so one replica and two can be
// compared with the same CPU budget each, the database and the load
// generator on the CPU left over.

// cpuCgroupRoots are where the cgroup CPU controller may be mounted:
// cgroup v1's cpu hierarchy, then the unified (v2) one.
var cpuCgroupRoots = []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup"}

// cpuCap is one cgroup holding a replica's processes.
type cpuCap struct {
	dir string
	v2  bool
}

// newCPUCap makes a cgroup named name limited to cpus CPUs.
func newCPUCap(name string, cpus float64) (*cpuCap, error) {
	const period = 100000 // µs
	quota := int(cpus * period)
	for _, root := range cpuCgroupRoots {
		if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err == nil { // v1
			c := &cpuCap{dir: filepath.Join(root, name)}
			if err := os.Mkdir(c.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("cpu cap: %w", err)
			}
			if err := c.write("cpu.cfs_period_us", strconv.Itoa(period)); err != nil {
				return nil, err
			}
			return c, c.write("cpu.cfs_quota_us", strconv.Itoa(quota))
		}
		if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil { // v2
			c := &cpuCap{dir: filepath.Join(root, name), v2: true}
			if err := os.Mkdir(c.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				return nil, fmt.Errorf("cpu cap: %w", err)
			}
			return c, c.write("cpu.max", fmt.Sprintf("%d %d", quota, period))
		}
	}
	return nil, errors.New("cpu cap: no cgroup CPU controller is mounted (looked in /sys/fs/cgroup/cpu and /sys/fs/cgroup)")
}

func (c *cpuCap) write(file, v string) error {
	if err := os.WriteFile(filepath.Join(c.dir, file), []byte(v), 0); err != nil {
		return fmt.Errorf("cpu cap: writing %s: %w", file, err)
	}
	return nil
}

// hold moves the process pid and every child it has now into the cgroup.
func (c *cpuCap) hold(pid int) error {
	pids := []int{pid}
	for child := range children(pid) {
		pids = append(pids, child)
	}
	for _, p := range pids {
		if err := c.write("cgroup.procs", strconv.Itoa(p)); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes the cgroup once its processes are gone.
func (c *cpuCap) remove() { _ = os.Remove(c.dir) }
