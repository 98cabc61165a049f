package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/toolhost/toolhost/sdk"
)

var testkit = sdk.Plugin{
	Name: "testkit", Title: "Test kit", Description: "Actions that exercise the plugin protocol.", Version: "0.1.0",
	Config: []sdk.ConfigParam{
		{Key: "counterFile", Title: "Counter file", Description: "File that count appends a line to per call."},
		{Key: "greeting", Title: "Greeting", Description: "Word echo puts in front."},
		{Key: "token", Title: "Token", Description: "A secret for tests.", Secret: true},
	},
	Actions: []sdk.Action{
		{Key: "noop", Title: "No-op", Description: "Does nothing.", Type: sdk.Read, Handler: sdk.NewHandler(noop)},
		{Key: "echo", Title: "Echo", Description: "Returns its input.", Type: sdk.Create, Idempotent: true, ClosedWorld: true, Handler: sdk.NewHandler(echo)},
		{Key: "sleep", Title: "Sleep", Description: "Sleeps, honouring cancellation.", Type: sdk.Read, Handler: sdk.NewHandler(sleep)},
		{Key: "stubborn", Title: "Stubborn", Description: "Sleeps, ignoring cancellation.", Type: sdk.Read, Handler: sdk.NewHandler(stubborn)},
		{Key: "chatty", Title: "Chatty", Description: "Streams logs and progress.", Type: sdk.Read, Handler: sdk.NewHandler(chatty)},
		{Key: "panic", Title: "Panic", Description: "Panics.", Type: sdk.Read, Handler: sdk.NewHandler(panics)},
		{Key: "crash", Title: "Crash", Description: "Exits the process mid-run.", Type: sdk.Update, Handler: sdk.NewHandler(crash)},
		{Key: "fail", Title: "Fail", Description: "Returns an error.", Type: sdk.Read, Handler: sdk.NewHandler(fail)},
		{Key: "count", Title: "Count", Description: "Appends a line to the counter file.", Type: sdk.Create, Handler: sdk.NewHandler(count)},
		{Key: "big", Title: "Big", Description: "Returns a string of the given size.", Type: sdk.Read, Handler: sdk.NewHandler(big)},
		{Key: "badOutput", Title: "Bad output", Description: "Returns output that breaks its schema.", Type: sdk.Read, Handler: sdk.NewHandler(badOutput)},
		{Key: "typed", Title: "Typed", Description: "Takes one parameter of each type.", Type: sdk.Read, Handler: sdk.NewHandler(typed)},
		{Key: "traceparent", Title: "Trace parent", Description: "Returns the traceparent the host passed with the call.", Type: sdk.Read, Handler: sdk.NewHandler(traceParent)},
		{Key: "env", Title: "Env", Description: "Returns the process environment.", Type: sdk.Read, Handler: sdk.NewHandler(env)},
		{Key: "print", Title: "Print", Description: "Prints lines to os.Stdout and os.Stderr, one with its token.", Type: sdk.Read, Handler: sdk.NewHandler(printLines)},
		{Key: "leak", Title: "Leak", Description: "Writes its token to file descriptor 2, as a Go panic would, and exits.", Type: sdk.Update, Handler: sdk.NewHandler(leak)},
	},
}

// Empty is an action with no input or output.
type Empty struct{}

func noop(context.Context, Empty) (Empty, error) { return Empty{}, nil }

// EchoIO is echo's input and output.
type EchoIO struct {
	Text   string `json:"text" title:"Text" description:"Text to echo."`
	Secret string `json:"secret,omitempty" title:"Secret" description:"Never stored." toolhost:"secret"`
}

func echo(ctx context.Context, in EchoIO) (EchoIO, error) {
	if g := sdk.ConfigFrom(ctx).Get("greeting"); g != "" {
		in.Text = g + " " + in.Text
	}
	return EchoIO{Text: in.Text}, nil
}

// SleepIn says how long to sleep.
type SleepIn struct {
	MS int `json:"ms" title:"Milliseconds" description:"How long to sleep."`
}

// SleepOut says how long was slept.
type SleepOut struct {
	SleptMS int64 `json:"sleptMs" title:"Slept" description:"Milliseconds slept."`
}

func sleep(ctx context.Context, in SleepIn) (SleepOut, error) {
	start := time.Now()
	select {
	case <-time.After(time.Duration(in.MS) * time.Millisecond):
		return SleepOut{SleptMS: time.Since(start).Milliseconds()}, nil
	case <-ctx.Done():
		sdk.LoggerFrom(ctx).Info("sleep interrupted", "after_ms", time.Since(start).Milliseconds())
		return SleepOut{}, fmt.Errorf("interrupted after %s: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
	}
}

func stubborn(_ context.Context, in SleepIn) (SleepOut, error) {
	time.Sleep(time.Duration(in.MS) * time.Millisecond)
	return SleepOut{SleptMS: int64(in.MS)}, nil
}

// ChattyIn says how many lines to log.
type ChattyIn struct {
	Lines   int `json:"lines" title:"Lines" description:"How many log lines."`
	DelayMS int `json:"delayMs,omitempty" title:"Delay" description:"Milliseconds between lines."`
	// Size pads each line's message and a field to this many bytes, and
	// Stderr prints this many lines to stderr first: floods, for tests.
	Size   int `json:"size,omitempty" title:"Size" description:"Bytes of each line's message and of a field."`
	Stderr int `json:"stderr,omitempty" title:"Stderr" description:"Lines to print to stderr first."`
}

func chatty(ctx context.Context, in ChattyIn) (Empty, error) {
	log := sdk.LoggerFrom(ctx)
	for i := 1; i <= in.Stderr; i++ {
		fmt.Fprintf(os.Stderr, "flood line %d\n", i)
	}
	for i := 1; i <= in.Lines; i++ {
		if in.Size > 0 {
			pad := strings.Repeat("x", in.Size)
			log.Info(fmt.Sprintf("line %d ", i)+pad, "i", i, "pad", pad)
			continue
		}
		log.Info(fmt.Sprintf("line %d", i), "i", i)
		sdk.Progress(ctx, float64(i)/float64(in.Lines), fmt.Sprintf("%d of %d", i, in.Lines))
		time.Sleep(time.Duration(in.DelayMS) * time.Millisecond)
	}
	return Empty{}, nil
}

func panics(context.Context, Empty) (Empty, error) { panic("kaboom") }

func crash(_ context.Context, in SleepIn) (Empty, error) {
	time.Sleep(time.Duration(in.MS) * time.Millisecond)
	os.Exit(3)
	return Empty{}, nil
}

// printLines prints as a plugin author debugging would; go-plugin streams
// os.Stdout and os.Stderr to the host once the plugin serves.
// PrintOut is what print says it printed.
type PrintOut struct {
	Said string `json:"said" title:"Said" description:"The stderr line with the token."`
}

// printLines also logs its token and the value of $X_SECRET (an env entry)
// inside a list, a field the sdk encodes as JSON, and returns the token.
func printLines(ctx context.Context, _ Empty) (PrintOut, error) {
	token := sdk.ConfigFrom(ctx).Get("token")
	fmt.Println("hello on stdout")
	fmt.Fprintf(os.Stderr, "token is %s\nno newline at the end", token)
	fmt.Fprintln(os.Stderr, ", until now")
	fmt.Fprintf(os.Stderr, "quoted %q\n", []string{token, os.Getenv("X_SECRET")})
	sdk.LoggerFrom(ctx).Info("fields", "list", []string{token}, "env", []string{os.Getenv("X_SECRET")})
	return PrintOut{Said: "token is " + token + ", env " + os.Getenv("X_SECRET")}, nil
}

// leak writes to the process's real stderr, which the host reads directly
// (go-plugin points os.Stderr elsewhere once serving, but a runtime panic
// writes to descriptor 2), past every scrubbing of the sdk.
func leak(ctx context.Context, _ Empty) (Empty, error) {
	fmt.Fprintf(os.NewFile(2, "stderr"), "panic: cannot use token %s\n", sdk.ConfigFrom(ctx).Get("token"))
	os.Exit(4)
	return Empty{}, nil
}

func fail(context.Context, Empty) (Empty, error) { return Empty{}, fmt.Errorf("the thing failed") }

// CountOut is the number of calls so far.
type CountOut struct {
	Calls int `json:"calls" title:"Calls" description:"Calls so far."`
}

// CountIn is count's input: the line to append, then how long to wait
// (honouring cancellation) before answering.
type CountIn struct {
	Text   string `json:"text" title:"Text" description:"The line to append."`
	Secret string `json:"secret,omitempty" title:"Secret" description:"Never stored." toolhost:"secret"`
	MS     int    `json:"ms,omitempty" title:"Milliseconds" description:"How long to wait after appending."`
}

func count(ctx context.Context, in CountIn) (CountOut, error) {
	path := sdk.ConfigFrom(ctx).Get("counterFile")
	if path == "" {
		return CountOut{}, fmt.Errorf("counterFile is not configured")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return CountOut{}, err
	}
	_, err = f.WriteString(in.Text + "\n")
	f.Close()
	data, _ := os.ReadFile(path)
	if err == nil && in.MS > 0 {
		select {
		case <-time.After(time.Duration(in.MS) * time.Millisecond):
		case <-ctx.Done():
			return CountOut{}, ctx.Err()
		}
	}
	return CountOut{Calls: strings.Count(string(data), "\n")}, err
}

// BigIn sizes big's output.
type BigIn struct {
	Bytes int `json:"bytes" title:"Bytes" description:"Output size."`
}

// BigOut is big's output.
type BigOut struct {
	Data string `json:"data" title:"Data" description:"Filler."`
}

func big(_ context.Context, in BigIn) (BigOut, error) {
	return BigOut{Data: strings.Repeat("x", in.Bytes)}, nil
}

// BadOut marshals into something its schema does not allow.
type BadOut struct {
	Value int `json:"value" title:"Value" description:"A number."`
}

// MarshalJSON breaks the schema on purpose.
func (BadOut) MarshalJSON() ([]byte, error) { return []byte(`{"value":"not a number"}`), nil }

func badOutput(context.Context, Empty) (BadOut, error) { return BadOut{}, nil }

// TypedIn has one parameter of each type.
type TypedIn struct {
	S    string         `json:"s" title:"S" description:"A string."`
	N    float64        `json:"n" title:"N" description:"A number."`
	I    int            `json:"i" title:"I" description:"An integer."`
	B    bool           `json:"b" title:"B" description:"A boolean."`
	A    []string       `json:"a,omitempty" title:"A" description:"An array."`
	O    map[string]int `json:"o,omitempty" title:"O" description:"An object."`
	Mode string         `json:"mode,omitempty" title:"Mode" description:"One of fast or slow." jsonschema:"enum=fast,enum=slow"`
}

func typed(_ context.Context, in TypedIn) (TypedIn, error) { return in, nil }

// EnvOut lists environment variables.
type EnvOut struct {
	Env []string `json:"env" title:"Env" description:"NAME=value lines."`
}

func env(context.Context, Empty) (EnvOut, error) {
	return EnvOut{Env: os.Environ()}, nil
}

// TraceOut is the trace context a call arrived with.
type TraceOut struct {
	TraceParent string `json:"traceparent" title:"Trace parent" description:"W3C traceparent, empty without one."`
}

func traceParent(ctx context.Context, _ Empty) (TraceOut, error) {
	return TraceOut{TraceParent: sdk.TraceParent(ctx)}, nil
}
