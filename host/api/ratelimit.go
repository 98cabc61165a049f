package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/toolhost/toolhost/host/domain"
)

// keyLimits holds a token bucket per API key name for the routes that need
// the run scope (Config.RunsPerSecond, Config.RunBurst).
type keyLimits struct {
	perSecond rate.Limit
	burst     int

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newKeyLimits(perSecond float64, burst int) *keyLimits {
	if perSecond <= 0 {
		return nil
	}
	return &keyLimits{perSecond: rate.Limit(perSecond), burst: max(burst, 1), keys: map[string]*rate.Limiter{}}
}

// wait is how long key must wait for its next request; 0 takes one now.
func (l *keyLimits) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	lim := l.keys[key]
	if lim == nil {
		lim = rate.NewLimiter(l.perSecond, l.burst)
		l.keys[key] = lim
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// overLimit answers 429 with Retry-After when key has used up its run
// requests, and reports whether it did.
func (s *server) overLimit(w http.ResponseWriter, r *http.Request, key string) bool {
	if s.limits == nil {
		return false
	}
	d := s.limits.wait(key, time.Now())
	if d == 0 {
		return false
	}
	secs := int(math.Ceil(d.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.fail(w, r, domain.Errorf(domain.CodeRateLimited, "API key %q is over its limit of %g run requests per second; retry in %d s",
		key, float64(s.limits.perSecond), secs))
	return true
}
