package main

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/toolhost/toolhost/sdk"
)

// FuzzParsePage feeds arbitrary bytes to the HTML reader: it must not
// panic, and what it returns is valid UTF-8 with a one-line title.
func FuzzParsePage(f *testing.F) {
	f.Add([]byte(articleHTML), false)
	f.Add([]byte(articleHTML), true)
	f.Add([]byte("<title>a<svg><title>b</title></svg></title><h1>x</h1>"), true)
	f.Add([]byte("<pre>\xff\xfe<table><tr><td>a<td>b</table>"), false)
	f.Add([]byte(strings.Repeat("<div>", 600)+"deep"), true)
	f.Fuzz(func(t *testing.T, doc []byte, asText bool) {
		p, err := parsePage(doc, "https://example.com/dir/", asText)
		if err != nil {
			return
		}
		if !utf8.ValidString(p.title) || !utf8.ValidString(p.content) {
			t.Fatalf("invalid UTF-8: title %q content %q", p.title, p.content)
		}
		if strings.ContainsAny(p.title, "\n\r\t") || p.title != strings.TrimSpace(p.title) {
			t.Fatalf("title %q is not one trimmed line", p.title)
		}
	})
}

// FuzzLoadSettings checks that any configuration is either refused with a
// message naming a key or gives settings within bounds.
func FuzzLoadSettings(f *testing.F) {
	f.Add("true", "a.example.com, 10.0.0.1", "1024", "20s", "5")
	f.Add("maybe", "http://x/", "-1", "0s", "99")
	f.Add("", "[::1],,", "", "", "")
	f.Fuzz(func(t *testing.T, allowPrivate, allowHosts, maxBytes, timeout, redirects string) {
		s, err := loadSettings(sdk.Config{keyAllowPrivate: allowPrivate, keyAllowHosts: allowHosts,
			keyMaxBytes: maxBytes, keyTimeout: timeout, keyMaxRedirects: redirects})
		if err != nil {
			for _, key := range []string{keyAllowPrivate, keyAllowHosts, keyMaxBytes, keyTimeout, keyMaxRedirects} {
				if strings.HasPrefix(err.Error(), key+": ") {
					return
				}
			}
			t.Fatalf("error names no key: %v", err)
		}
		if s.maxBytes < 1 || s.maxBytes > maxMaxBytes || s.timeout <= 0 || s.timeout > maxTimeout ||
			s.maxRedirects < 0 || s.maxRedirects > maxMaxRedirects {
			t.Fatalf("settings out of bounds: %+v", s)
		}
		for h := range s.allowHosts {
			if _, err := netip.ParseAddr(h); err != nil && !validHostName(h) {
				t.Fatalf("allow_hosts holds %q", h)
			}
		}
	})
}

// FuzzCheckURL checks that an accepted URL is an absolute http(s) URL with
// a host, and that nothing panics.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/a?b#c", "example.com", "http://[::1]:80/", "ftp://x", "http://%zz", "//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkURL(raw)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Fragment != "" {
			t.Fatalf("accepted %q as %#v", raw, u)
		}
	})
}
