//go:build !linux

package main

import "errors"

type cpuCap struct{}

func newCPUCap(string, float64) (*cpuCap, error) {
	return nil, errors.New("cpu cap: needs Linux cgroups")
}

func (c *cpuCap) hold(int) error { return nil }

func (c *cpuCap) remove() {}
