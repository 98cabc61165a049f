package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html/charset"

	"github.com/toolhost/toolhost/sdk"
)

// FetchInput is the fetch action's input.
type FetchInput struct {
	URL    string `json:"url" title:"URL" description:"The page to fetch: an absolute http:// or https:// URL."`
	Format string `json:"format,omitempty" title:"Format" description:"How to render an HTML page: markdown (the default) or text. Other text content is returned as it is." jsonschema:"enum=markdown,enum=text"`
}

// FetchOutput is the fetch action's output.
type FetchOutput struct {
	URL         string `json:"url" title:"Final URL" description:"The URL the content came from, after redirects."`
	Title       string `json:"title" title:"Title" description:"The page's title (its <title>, else its first heading); empty for content that is not HTML."`
	ContentType string `json:"contentType" title:"Content type" description:"The media type of the content, such as text/html or application/json."`
	Content     string `json:"content" title:"Content" description:"The readable content: markdown or plain text for HTML, the text itself otherwise."`
	StatusCode  int    `json:"statusCode" title:"Status code" description:"The HTTP status of the final response."`
	Bytes       int64  `json:"bytes" title:"Bytes read" description:"How many bytes of the body were read (after decompression)."`
	Truncated   bool   `json:"truncated" title:"Truncated" description:"True when the body was longer than max_bytes and was cut there."`
}

// maxURLLength bounds the input URL.
const maxURLLength = 8192

// errTooManyRedirects stops a redirect chain longer than max_redirects.
var errTooManyRedirects = errors.New("too many redirects")

func fetch(ctx context.Context, in FetchInput) (FetchOutput, error) {
	s, err := loadSettings(sdk.ConfigFrom(ctx))
	if err != nil {
		return FetchOutput{}, &sdk.Error{Code: sdk.CodeMisconfigured, Message: err.Error()}
	}
	u, err := checkURL(in.URL)
	if err != nil {
		return FetchOutput{}, sdk.InputError("url", "%v", err)
	}
	asText := false
	switch in.Format {
	case "", "markdown":
	case "text":
		asText = true
	default:
		return FetchOutput{}, sdk.InputError("format", "must be markdown or text, not %q", in.Format)
	}

	run := ctx // the run's own context: the host cancels it, or its action timeout ends it
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	client, closeIdle := newClient(ctx, s)
	defer closeIdle()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return FetchOutput{}, sdk.InputError("url", "%v", err)
	}
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return FetchOutput{}, explain(run, err, u, s)
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	if resp.StatusCode >= 400 {
		return FetchOutput{}, fmt.Errorf("%s answered %s", final, resp.Status)
	}

	raw, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBytes+1))
	if err != nil {
		return FetchOutput{}, explain(run, fmt.Errorf("reading the body: %w", err), u, s)
	}
	out := FetchOutput{URL: final, StatusCode: resp.StatusCode}
	if int64(len(raw)) > s.maxBytes {
		raw, out.Truncated = raw[:s.maxBytes], true
		sdk.LoggerFrom(ctx).Warn("body cut at max_bytes", "max_bytes", s.maxBytes)
	}
	out.Bytes = int64(len(raw))

	header := resp.Header.Get("Content-Type")
	mediaType, kind := classify(header, raw)
	out.ContentType = mediaType
	if kind == kindOther {
		return FetchOutput{}, fmt.Errorf("%s is %s, not HTML or text; fetch reads only web pages and text", final, mediaType)
	}
	enc, name, _ := charset.DetermineEncoding(raw, header)
	if out.Truncated && name == "utf-8" {
		raw = trimPartialRune(raw) // not a broken character at the cut
	}
	text, err := enc.NewDecoder().Bytes(raw)
	if err != nil {
		return FetchOutput{}, fmt.Errorf("%s: cannot decode its %s text: %v", final, mediaType, err)
	}
	if kind == kindText {
		out.Content = strings.ToValidUTF8(string(text), "\uFFFD")
		return out, nil
	}
	p, err := parsePage(text, final, asText)
	if err != nil {
		return FetchOutput{}, fmt.Errorf("%s: reading its HTML: %v", final, err)
	}
	out.Title, out.Content = p.title, p.content
	return out, nil
}

// checkURL parses and checks the input URL.
func checkURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return nil, errors.New("is empty; give an absolute http:// or https:// URL")
	case len(raw) > maxURLLength:
		return nil, fmt.Errorf("is %d characters long, more than %d", len(raw), maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("is not a valid URL: %v", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, fmt.Errorf("%q has no scheme; give an absolute URL such as https://%s", raw, strings.TrimPrefix(raw, "//"))
		}
		return nil, fmt.Errorf("scheme %q is not allowed; only http and https", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// newClient returns an HTTP client that dials only allowed addresses,
// follows at most max_redirects redirects (to http and https only), and uses
// no proxy; closeIdle releases its connections.
func newClient(ctx context.Context, s settings) (*http.Client, func()) {
	d := &dialer{s: s, timeout: s.timeout}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  s.timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           4,
		IdleConnTimeout:        10 * time.Second,
	}
	log := sdk.LoggerFrom(ctx)
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > s.maxRedirects {
				return fmt.Errorf("%w: stopped after %d (max_redirects)", errTooManyRedirects, s.maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirected to a %s: URL; only http and https are followed", req.URL.Scheme)
			}
			log.Info("redirected", "to", req.URL.String())
			return nil
		},
	}
	return client, tr.CloseIdleConnections
}

// explain turns a failed request into a message an assistant can act on.
// A refused address is the input's fault: the answer is a 400 naming url.
// run is the run's context, which the host may have ended first.
func explain(run context.Context, err error, start *url.URL, s settings) error {
	var where string
	var uerr *url.Error
	if errors.As(err, &uerr) && uerr.URL != start.String() {
		where = " (redirected to " + uerr.URL + ")"
	}
	var refused *refusedError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &refused), errors.Is(err, ErrRefusedAddress):
		msg := err.Error()
		if refused != nil {
			msg = refused.Error()
		}
		return sdk.InputError("url", "refused to connect%s: %s; fetch does not reach private networks unless the plugin's config says allow_private = \"true\" or lists the host in allow_hosts", where, msg)
	case errors.Is(err, errTooManyRedirects):
		return fmt.Errorf("fetching %s: too many redirects: stopped after %d (max_redirects)", start, s.maxRedirects)
	case run.Err() != nil:
		return fmt.Errorf("fetching %s%s: stopped: the run was cancelled or reached the host's action timeout", start, where)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Errorf("fetching %s%s: timed out after %s (the plugin's timeout setting)", start, where, s.timeout)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("fetching %s%s: cannot resolve host %s", start, where, dnsErr.Name)
	}
	if uerr != nil {
		err = uerr.Err
	}
	return fmt.Errorf("fetching %s%s: %v", start, where, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Kinds of content.
const (
	kindHTML = iota
	kindText
	kindOther
)

// classify returns the media type of a body and whether fetch reads it as
// HTML, as text, or not at all. Without a Content-Type header it sniffs.
func classify(header string, body []byte) (string, int) {
	mediaType, _, err := mime.ParseMediaType(header)
	if header == "" || err != nil {
		mediaType, _, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	mediaType = strings.ToLower(mediaType)
	switch {
	case mediaType == "text/html", mediaType == "application/xhtml+xml":
		return mediaType, kindHTML
	case strings.HasPrefix(mediaType, "text/"),
		mediaType == "application/json", mediaType == "application/xml",
		mediaType == "application/javascript", mediaType == "application/ecmascript",
		mediaType == "application/x-yaml", mediaType == "application/yaml", mediaType == "application/toml",
		strings.HasSuffix(mediaType, "+json"), strings.HasSuffix(mediaType, "+xml"):
		return mediaType, kindText
	}
	return mediaType, kindOther
}
