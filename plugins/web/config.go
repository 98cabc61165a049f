package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/toolhost/toolhost/sdk"
)

// Configuration keys.
const (
	keyAllowPrivate = "allow_private"
	keyAllowHosts   = "allow_hosts"
	keyMaxBytes     = "max_bytes"
	keyTimeout      = "timeout"
	keyMaxRedirects = "max_redirects"
	keyUserAgent    = "user_agent"
)

// Defaults and bounds.
const (
	defaultMaxBytes     = 2 << 20 // 2 MiB of body, after decompression
	maxMaxBytes         = 64 << 20
	defaultTimeout      = 20 * time.Second
	maxTimeout          = 5 * time.Minute
	defaultMaxRedirects = 5
	maxMaxRedirects     = 20
	defaultUserAgent    = "toolhost-web/1.0 (+https://github.com/toolhost/toolhost)"
)

var configParams = []sdk.ConfigParam{
	{Key: keyAllowPrivate, Title: "Allow private addresses",
		Description: `"true" lets fetch reach private, loopback, link-local, unspecified and multicast addresses ` +
			`(your own network and this machine). Default "false": such addresses are refused.`},
	{Key: keyAllowHosts, Title: "Allowed hosts",
		Description: "Comma-separated host names or IP addresses that fetch may reach even when they resolve to " +
			"a private address, e.g. \"intranet.example.com,127.0.0.1\". A redirect away from them is checked again."},
	{Key: keyMaxBytes, Title: "Maximum bytes",
		Description: "How many bytes of a page (after decompression) fetch reads; the rest is cut off and the " +
			"output says truncated. Default 2097152 (2 MiB), at most 67108864."},
	{Key: keyTimeout, Title: "Timeout",
		Description: "How long one fetch may take, redirects included, e.g. \"20s\" (the default); at most 5m."},
	{Key: keyMaxRedirects, Title: "Maximum redirects",
		Description: "How many redirects fetch follows, 0 to 20. Default 5."},
	{Key: keyUserAgent, Title: "User agent",
		Description: "The User-Agent header sent. Default: " + defaultUserAgent + "."},
}

// settings is the configuration, parsed.
type settings struct {
	allowPrivate bool
	allowHosts   map[string]bool // lower-case host names and canonical IP addresses
	maxBytes     int64
	timeout      time.Duration
	maxRedirects int
	userAgent    string
}

// loadSettings parses a configuration, naming every bad key.
func loadSettings(c sdk.Config) (settings, error) {
	s := settings{
		maxBytes: defaultMaxBytes, timeout: defaultTimeout, maxRedirects: defaultMaxRedirects,
		userAgent: defaultUserAgent, allowHosts: map[string]bool{},
	}
	var probs []string
	bad := func(key, format string, args ...any) {
		probs = append(probs, key+": "+fmt.Sprintf(format, args...))
	}
	if v := strings.TrimSpace(c.Get(keyAllowPrivate)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(keyAllowPrivate, "must be \"true\" or \"false\", not %q", v)
		}
		s.allowPrivate = b
	}
	if v := c.Get(keyAllowHosts); v != "" {
		hosts, err := parseAllowHosts(v)
		if err != nil {
			bad(keyAllowHosts, "%v", err)
		}
		s.allowHosts = hosts
	}
	if v := strings.TrimSpace(c.Get(keyMaxBytes)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > maxMaxBytes {
			bad(keyMaxBytes, "must be a whole number of bytes from 1 to %d, not %q", maxMaxBytes, v)
		} else {
			s.maxBytes = n
		}
	}
	if v := strings.TrimSpace(c.Get(keyTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > maxTimeout {
			bad(keyTimeout, "must be a duration such as \"20s\", above 0 and at most 5m, not %q", v)
		} else {
			s.timeout = d
		}
	}
	if v := strings.TrimSpace(c.Get(keyMaxRedirects)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxMaxRedirects {
			bad(keyMaxRedirects, "must be a whole number from 0 to %d, not %q", maxMaxRedirects, v)
		} else {
			s.maxRedirects = n
		}
	}
	if v := c.Get(keyUserAgent); v != "" {
		if strings.ContainsAny(v, "\r\n") {
			bad(keyUserAgent, "must be one line")
		} else {
			s.userAgent = v
		}
	}
	if len(probs) > 0 {
		return settings{}, errors.New(strings.Join(probs, "; "))
	}
	return s, nil
}

// checkConfig is the plugin's config check, run by the host at load.
func checkConfig(c sdk.Config) error {
	_, err := loadSettings(c)
	return err
}

// parseAllowHosts parses "a.example.com, 10.0.0.5, [::1]" into a set of
// lower-case host names and canonical IP addresses.
func parseAllowHosts(v string) (map[string]bool, error) {
	hosts := map[string]bool{}
	for i, raw := range strings.Split(v, ",") {
		h := strings.ToLower(strings.TrimSpace(raw))
		if h == "" {
			continue
		}
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
		if a, err := netip.ParseAddr(h); err == nil {
			hosts[a.Unmap().String()] = true
			continue
		}
		if !validHostName(h) {
			return nil, fmt.Errorf("entry %d, %q, is not a host name or IP address (give names without scheme, port or path)", i+1, strings.TrimSpace(raw))
		}
		hosts[strings.TrimSuffix(h, ".")] = true
	}
	return hosts, nil
}

// validHostName reports whether h is a DNS name: labels of letters, digits,
// hyphens and underscores, at most 253 characters.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
