package supervisor

import (
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// A plugin's printed lines (stdout and stderr together, across restarts)
// reach the host's log at most OutputLinesPerSecond a second, with bursts
// of OutputLineBurst; the lines past that are counted and summed up in one
// "suppressed" line at most every outputSummaryEvery.
const (
	OutputLinesPerSecond = 100
	OutputLineBurst      = 200
	outputSummaryEvery   = time.Second
)

// lineLimiter rate-limits one plugin's output lines.
type lineLimiter struct {
	lim *rate.Limiter
	log hclog.Logger

	mu         sync.Mutex
	suppressed int
	timer      *time.Timer // pending summary
}

func newLineLimiter(log hclog.Logger) *lineLimiter {
	return &lineLimiter{lim: rate.NewLimiter(OutputLinesPerSecond, OutputLineBurst), log: log}
}

// allow reports whether the next line may be logged; a line that may not
// is counted for the summary.
func (l *lineLimiter) allow() bool {
	if l == nil {
		return true
	}
	if l.lim.Allow() {
		l.summary() // what was suppressed before this line
		return true
	}
	l.mu.Lock()
	l.suppressed++
	if l.timer == nil {
		l.timer = time.AfterFunc(outputSummaryEvery, l.summary)
	}
	l.mu.Unlock()
	return false
}

// summary logs how many lines were suppressed since the last summary.
func (l *lineLimiter) summary() {
	l.mu.Lock()
	n := l.suppressed
	l.suppressed = 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	if n > 0 {
		l.log.Warn("plugin output: suppressed lines (over the limit of lines a second)",
			"suppressed", n, "limit", OutputLinesPerSecond)
	}
}
