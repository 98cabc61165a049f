package supervisor

import (
	"bytes"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxOutputLine caps one logged line of a plugin's output; the rest of a
// longer line is dropped, not buffered.
const maxOutputLine = 4096

// outputLogger logs what a serving plugin prints to its os.Stdout or
// os.Stderr (go-plugin streams both to the host once the plugin serves),
// one log line per line printed, through the plugin's scrubbing logger.
// Without it go-plugin discards them.
type outputLogger struct {
	log    hclog.Logger
	stream string // "stdout" or "stderr"

	mu      sync.Mutex
	partial []byte
	cut     bool         // the current line went past maxOutputLine
	limiter *lineLimiter // nil: every line is logged
}

// limit makes o log only the lines l allows.
func (o *outputLogger) limit(l *lineLimiter) *outputLogger {
	o.limiter = l
	return o
}

func newOutputLogger(log hclog.Logger, stream string) *outputLogger {
	return &outputLogger{log: log, stream: stream}
}

func (o *outputLogger) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for rest := p; len(rest) > 0; {
		line, after, complete := bytes.Cut(rest, []byte{'\n'})
		o.keep(line)
		if !complete {
			break
		}
		o.emit()
		rest = after
	}
	return len(p), nil
}

// keep adds b to the current line, up to maxOutputLine bytes.
func (o *outputLogger) keep(b []byte) {
	if room := maxOutputLine - len(o.partial); len(b) > room {
		b, o.cut = b[:max(room, 0)], true
	}
	o.partial = append(o.partial, b...)
}

// emit logs the current line and starts the next.
func (o *outputLogger) emit() {
	line := string(bytes.TrimRight(o.partial, "\r"))
	if o.cut {
		line += " [line cut at 4096 bytes]"
	}
	o.partial, o.cut = o.partial[:0], false
	if line != "" && o.limiter.allow() {
		o.log.Info("plugin output", "stream", o.stream, "line", line)
	}
}
