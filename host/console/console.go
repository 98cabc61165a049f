// Package console is the web console at /console: one more door on the
// core. It signs an operator in with an API key (a form), keeps the key
// server-side in a session named by an HttpOnly, SameSite=Strict cookie,
// and forwards the page's API calls (/console/api/v1/...) to the host's
// JSON API with that key, so the console can do exactly what the key's
// scopes allow, through the same pipeline as every other door. State-
// changing requests need the session's CSRF token and a same-origin
// Origin. The pages are embedded static files (HTML, CSS, vanilla JS): no
// build step, no CDN.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

//go:embed assets
var assets embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console"

// CookieName is the session cookie's name.
const CookieName = "toolhost_console"

// DefaultTTL is how long a session lasts.
const DefaultTTL = 12 * time.Hour

// Authenticator checks an API key (core.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, key string) (*domain.APIKey, error)
}

// Options configure the console.
type Options struct {
	Auth Authenticator
	// API is the host's JSON API handler; /console/api/X is forwarded to
	// it as /X with the session's key.
	API http.Handler
	// TTL is a session's lifetime (DefaultTTL when zero).
	TTL time.Duration
	// Now is the clock (time.Now when nil; tests move it).
	Now func() time.Time
}

// Console serves /console.
type Console struct {
	opts   Options
	static http.Handler
	pages  *template.Template

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	key     string // the API key, never sent back to the browser
	name    string
	scopes  []string
	csrf    string
	expires time.Time
}

// New makes the console.
func New(opts Options) *Console {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sub, _ := fs.Sub(assets, "assets")
	return &Console{opts: opts, static: http.StripPrefix(Prefix+"/static/", http.FileServerFS(sub)),
		pages:    template.Must(template.ParseFS(assets, "assets/*.html")),
		sessions: map[string]*session{}}
}

// ServeHTTP routes the console's requests.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
	path := strings.TrimPrefix(r.URL.Path, Prefix)
	switch {
	case path == "/login":
		c.login(w, r)
	case path == "/logout":
		c.logout(w, r)
	case strings.HasPrefix(path, "/static/"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET")
			return
		}
		c.static.ServeHTTP(w, r)
	case strings.HasPrefix(path, "/api/"):
		c.api(w, r, strings.TrimPrefix(path, "/api"))
	case path == "" || path == "/":
		c.app(w, r)
	default:
		http.NotFound(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// session is the request's live session, nil when there is none.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[ck.Value]
	if s == nil {
		return nil
	}
	if !c.opts.Now().Before(s.expires) {
		delete(c.sessions, ck.Value)
		return nil
	}
	return s
}

// sameOrigin is the strict Origin check: a browser sends Origin on every
// POST; it must name this host. A request without Origin (not a browser's
// form or fetch) still needs the CSRF token.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

func tokenOK(s *session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type loginPage struct {
	Error string
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if c.session(r) != nil {
			http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
			return
		}
		c.render(w, http.StatusOK, "login.html", loginPage{})
	case http.MethodPost:
		if !sameOrigin(r) {
			c.render(w, http.StatusForbidden, "login.html", loginPage{Error: "This form must be sent from the console's own page."})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
		key := strings.TrimSpace(r.PostFormValue("key"))
		if key == "" {
			c.render(w, http.StatusBadRequest, "login.html", loginPage{Error: "Enter an API key."})
			return
		}
		k, err := c.opts.Auth.Authenticate(r.Context(), key)
		if err != nil {
			c.render(w, http.StatusUnauthorized, "login.html", loginPage{Error: "That API key is not valid."})
			return
		}
		id := randomToken()
		s := &session{key: key, name: k.Name, scopes: k.Held(), csrf: randomToken(), expires: c.opts.Now().Add(c.opts.TTL)}
		c.mu.Lock()
		c.pruneLocked()
		c.sessions[id] = s
		c.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: Prefix, HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, Expires: s.expires, MaxAge: int(c.opts.TTL / time.Second)})
		http.Redirect(w, r, Prefix+"/", http.StatusSeeOther)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

// pruneLocked drops expired sessions. c.mu is held.
func (c *Console) pruneLocked() {
	now := c.opts.Now()
	for id, s := range c.sessions {
		if !now.Before(s.expires) {
			delete(c.sessions, id)
		}
	}
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	s := c.session(r)
	if s == nil {
		http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
		return
	}
	if !sameOrigin(r) || !tokenOK(s, r.PostFormValue("csrf")) {
		http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	ck, _ := r.Cookie(CookieName)
	c.mu.Lock()
	delete(c.sessions, ck.Value)
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

type appPage struct {
	KeyName string
	Scopes  string
	CSRF    string
}

func (c *Console) app(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	s := c.session(r)
	if s == nil {
		http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, http.StatusOK, "app.html", appPage{KeyName: s.name, Scopes: strings.Join(s.scopes, " "), CSRF: s.csrf})
}

// api forwards /console/api/v1/... to the JSON API with the session's key.
// Reads need the session; anything else also needs the CSRF token (header
// X-CSRF-Token) and a same-origin Origin.
func (c *Console) api(w http.ResponseWriter, r *http.Request, path string) {
	s := c.session(r)
	if s == nil {
		writeJSONError(w, http.StatusUnauthorized, "unauthorized", "not signed in to the console (or the session expired)")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if !sameOrigin(r) {
			writeJSONError(w, http.StatusForbidden, "forbidden", "cross-origin request refused")
			return
		}
		if !tokenOK(s, r.Header.Get("X-CSRF-Token")) {
			writeJSONError(w, http.StatusForbidden, "forbidden", "missing or wrong CSRF token")
			return
		}
	}
	if !strings.HasPrefix(path, "/v1/") {
		writeJSONError(w, http.StatusNotFound, "not_found", "the console forwards /console/api/v1/... only")
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = path, ""
	r2.RequestURI = ""
	r2.Header.Del("Cookie")
	r2.Header.Del("Authorization")
	r2.Header.Del("Origin") // checked above; the API's CORS has nothing to add
	r2.Header.Set("X-Api-Key", s.key)
	c.opts.API.ServeHTTP(w, r2)
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"status":"error","error":{"code":` + quote(code) + `,"message":` + quote(msg) + `}}`))
}

func quote(s string) string { return string(domain.AppendJSONString(nil, s)) }

func (c *Console) render(w http.ResponseWriter, status int, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = c.pages.ExecuteTemplate(w, page, data)
}
