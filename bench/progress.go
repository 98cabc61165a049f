package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress keeps one status line on stderr, rewritten in place with \r on
// a terminal. When stderr is not a terminal it prints one line per step.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	start   time.Time
	step    string
	stepAt  time.Time
	stepLen time.Duration // expected length, 0 when unknown
	cnt     *counters
	width   int
	stop    chan struct{}
	stopped chan struct{}
}

func newProgress(w *os.File) *progress {
	fi, err := w.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	p := &progress{w: w, tty: tty, start: time.Now(), stop: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.tty && p.step != "" {
				p.draw()
			}
			p.mu.Unlock()
		}
	}
}

// Step starts a new step; cnt (may be nil) feeds its request counts.
func (p *progress) Step(expected time.Duration, cnt *counters, format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = fmt.Sprintf(format, a...)
	p.stepAt = time.Now()
	p.stepLen = expected
	p.cnt = cnt
	if p.tty {
		p.draw()
	} else {
		fmt.Fprintf(p.w, "[%s] %s\n", clock(time.Since(p.start)), p.step)
	}
}

// Update changes the current step's text; off a terminal it prints
// nothing (one line per step is enough in a log).
func (p *progress) Update(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step = fmt.Sprintf(format, a...)
	if p.tty {
		p.draw()
	}
}

func (p *progress) draw() {
	line := fmt.Sprintf("[%s] %s", clock(time.Since(p.start)), p.step)
	el := time.Since(p.stepAt)
	if p.stepLen > 0 {
		line += fmt.Sprintf("  %.1f/%.1fs", el.Seconds(), p.stepLen.Seconds())
	} else {
		line += fmt.Sprintf("  %.1fs", el.Seconds())
	}
	if p.cnt != nil {
		ok, errs := p.cnt.ok.Load(), p.cnt.errs.Load()
		line += fmt.Sprintf("  %s ok", withCommas(ok))
		if el > 0 {
			line += fmt.Sprintf(" (%s/s)", withCommas(int64(float64(ok)/el.Seconds())))
		}
		if errs > 0 {
			line += fmt.Sprintf("  %d errors", errs)
		}
	}
	pad := ""
	if n := p.width - len([]rune(line)); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len([]rune(line))
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// Printf prints a line of its own above the status line.
func (p *progress) Printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format+"\n", a...)
	if p.tty && p.step != "" {
		p.draw()
	}
}

func (p *progress) clear() {
	if p.tty && p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}

// Done removes the status line and stops redrawing.
func (p *progress) Done() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.step = ""
}

func clock(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
