package console

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

type oneKey struct{}

func (oneKey) Authenticate(_ context.Context, key string) (*domain.APIKey, error) {
	if key == "good" {
		return &domain.APIKey{Name: "ops", Scopes: []string{domain.ScopeRead}}, nil
	}
	return nil, domain.ErrUnauthorized
}

func TestSecureCookieOverTLSAndExpiry(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var gotKey string
	c := New(Options{Auth: oneKey{}, TTL: time.Hour, Now: func() time.Time { return now },
		API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotKey = r.Header.Get("X-Api-Key")
			if r.Header.Get("Cookie") != "" {
				t.Error("the session cookie was forwarded to the API")
			}
			w.WriteHeader(204)
		})})
	req := httptest.NewRequest("POST", "https://host.example/console/login", strings.NewReader(url.Values{"key": {"good"}}.Encode()))
	req.TLS = &tls.ConnectionState{}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://host.example")
	w := httptest.NewRecorder()
	c.ServeHTTP(w, req)
	cks := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cks) != 1 {
		t.Fatalf("sign in: %d %v", w.Code, cks)
	}
	ck := cks[0]
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge != 3600 {
		t.Errorf("cookie over TLS: %+v", ck)
	}
	get := func() int {
		r := httptest.NewRequest("GET", "https://host.example/console/api/v1/runs", nil)
		r.AddCookie(ck)
		w := httptest.NewRecorder()
		c.ServeHTTP(w, r)
		return w.Code
	}
	if code := get(); code != 204 || gotKey != "good" {
		t.Errorf("within the hour: %d, key %q", code, gotKey)
	}
	now = now.Add(time.Hour)
	if code := get(); code != 401 {
		t.Errorf("after the hour: %d; want 401 (expired)", code)
	}
	if len(c.sessions) != 0 {
		t.Errorf("expired session kept")
	}
}
