package mcp_test

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/mcp"
)

func TestToolName(t *testing.T) {
	long := strings.Repeat("p", 50)
	a := &core.Action{Key: "sendEmail", Plugin: &core.PluginEntry{Name: "gmail"}}
	b := &core.Action{Key: strings.Repeat("k", 50), Plugin: &core.PluginEntry{Name: long}}
	c := &core.Action{Key: strings.Repeat("k", 49) + "j", Plugin: &core.PluginEntry{Name: long}}
	if got := mcp.ToolName(a, true); got != "gmail__sendEmail" {
		t.Errorf("got %q", got)
	}
	if got := mcp.ToolName(a, false); got != "sendEmail" {
		t.Errorf("got %q", got)
	}
	nb, nc := mcp.ToolName(b, true), mcp.ToolName(c, true)
	if len(nb) != 64 || len(nc) != 64 || nb == nc || !strings.HasPrefix(nb, long+"__") {
		t.Errorf("long names %q %q", nb, nc)
	}
}
