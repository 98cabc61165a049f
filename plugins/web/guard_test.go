package main

import (
	"errors"
	"net/netip"
	"testing"
)

func TestBlockedReason(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":                            "loopback",
		"127.8.9.10":                           "loopback",
		"::1":                                  "loopback",
		"::ffff:127.0.0.1":                     "loopback",
		"10.1.2.3":                             "private",
		"172.16.0.1":                           "private",
		"192.168.1.1":                          "private",
		"fc00::1":                              "private",
		"fd00:ec2::254":                        "private",
		"169.254.169.254":                      "link-local",
		"fe80::1":                              "link-local",
		"0.0.0.0":                              "unspecified",
		"::":                                   "unspecified",
		"224.0.0.1":                            "multicast",
		"239.1.1.1":                            "multicast",
		"ff02::1":                              "multicast",
		"ff05::2":                              "multicast",
		"0.1.2.3":                              `"this network"`,
		"100.64.0.1":                           "shared (carrier-grade NAT)",
		"198.18.0.1":                           "benchmarking",
		"255.255.255.255":                      "reserved",
		"64:ff9b::a00:1":                       "private (embedded in 64:ff9b::a00:1)",
		"2002:7f00:1::":                        "loopback (embedded in 2002:7f00:1::)",
		"2001:0:4136:e378:8000:63bf:80ff:fffe": "loopback (embedded in 2001:0:4136:e378:8000:63bf:80ff:fffe)",
		"8.8.8.8":                              "",
		"1.1.1.1":                              "",
		"93.184.215.14":                        "",
		"2606:4700:4700::1111":                 "",
		"64:ff9b::808:808":                     "",
	} {
		if got := blockedReason(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestCheckDialed(t *testing.T) {
	err := checkDialed("rebind.example", "127.0.0.1:80")
	if !errors.Is(err, ErrRefusedAddress) || err.Error() != "rebind.example resolves to 127.0.0.1, a loopback address" {
		t.Errorf("%v", err)
	}
	if err := checkDialed("example.com", "[2606:4700:4700::1111]:443"); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	if err := checkDialed("x", "garbage"); !errors.Is(err, ErrRefusedAddress) {
		t.Errorf("unreadable address: %v", err)
	}
}
