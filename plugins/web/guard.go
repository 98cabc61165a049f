package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrRefusedAddress is returned when fetch would connect to an address that
// its configuration does not allow (see blockedReason).
var ErrRefusedAddress = errors.New("refused address")

// refusedError says which address was refused, and why.
type refusedError struct {
	host   string // the host name being dialed
	addr   netip.Addr
	reason string
}

func (e *refusedError) Error() string {
	if _, err := netip.ParseAddr(e.host); e.host != "" && err != nil {
		return fmt.Sprintf("%s resolves to %s, a %s address", e.host, e.addr, e.reason)
	}
	return fmt.Sprintf("%s is a %s address", e.addr, e.reason)
}

func (e *refusedError) Unwrap() error { return ErrRefusedAddress }

// Special-purpose ranges that IsPrivate and friends do not cover.
var blockedPrefixes = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"}, // includes 255.255.255.255
}

// Prefixes of IPv6 addresses that embed an IPv4 address, which is checked too.
var (
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	teredoPrefix = netip.MustParsePrefix("2001::/32")
)

// blockedReason says why a is not a public address ("" when it is).
func blockedReason(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private"
	}
	for _, b := range blockedPrefixes {
		if b.prefix.Contains(a) {
			return b.reason
		}
	}
	if a.Is6() {
		b := a.As16()
		var v4 netip.Addr
		switch {
		case nat64Prefix.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(a):
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		case teredoPrefix.Contains(a):
			// The client's address is stored inverted in the last 32 bits.
			v4 = netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
		}
		if v4.IsValid() {
			if r := blockedReason(v4); r != "" {
				return r + " (embedded in " + a.String() + ")"
			}
		}
	}
	return ""
}

// dialer connects only to addresses the settings allow. The host name is
// checked against allow_hosts; the address actually dialed, after DNS
// resolution, is checked in the socket's Control hook, so a name that
// resolves differently on a second look (DNS rebinding) gains nothing.
type dialer struct {
	s       settings
	timeout time.Duration
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	nd := &net.Dialer{Timeout: d.timeout, KeepAlive: 30 * time.Second}
	if !d.s.allowPrivate && !d.s.hostAllowed(host) {
		nd.Control = func(_, dialed string, _ syscall.RawConn) error {
			return checkDialed(host, dialed)
		}
	}
	return nd.DialContext(ctx, network, address)
}

// checkDialed refuses a dialed "ip:port" that is not a public address.
func checkDialed(host, dialed string) error {
	ap, err := netip.ParseAddrPort(dialed)
	if err != nil {
		return fmt.Errorf("%w: cannot read dialed address %q", ErrRefusedAddress, dialed)
	}
	if r := blockedReason(ap.Addr()); r != "" {
		return &refusedError{host: host, addr: ap.Addr().Unmap(), reason: r}
	}
	return nil
}

// hostAllowed reports whether host (lower case, no brackets) is listed in
// allow_hosts, by name or by address.
func (s settings) hostAllowed(host string) bool {
	if s.allowHosts[host] {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return s.allowHosts[a.Unmap().String()]
	}
	return false
}
