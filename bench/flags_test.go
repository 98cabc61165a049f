package main

import (
	"io"
	"strings"
	"testing"
)

func TestReplicaCPUFlag(t *testing.T) {
	for _, bad := range []string{"-1", "65", "x"} {
		_, err := parseFlags([]string{"-pg-replica-cpu", bad, "-repo", t.TempDir()}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "pg-replica-cpu") {
			t.Errorf("-pg-replica-cpu %s: error %v, want one naming the flag", bad, err)
		}
	}
	o, err := parseFlags([]string{"-pg-replica-cpu", "0.5", "-repo", t.TempDir()}, io.Discard)
	if err != nil || o.replicaCPU != 0.5 {
		t.Fatalf("-pg-replica-cpu 0.5: %v, %v", o.replicaCPU, err)
	}
}
