// Package sdk is what a toolhost plugin author imports.
//
// A plugin is a small Go program: it declares a Plugin with its actions and
// calls Serve from main. Each action's handler is an ordinary function over
// Go structs,
//
//	func(ctx context.Context, in SendInput) (SendOutput, error)
//
// wrapped with NewHandler, which derives the action's input and output JSON
// Schemas from the structs' fields and tags:
//
//	json:"name"              the parameter's key (omitempty makes it optional)
//	title:"..."              a short human title
//	description:"..."        what the parameter means, for people and models
//	jsonschema:"enum=a,enum=b,minimum=1,maximum=50,default=10"
//	toolhost:"secret"        never stored in run history
//
// Secret configuration values, secret inputs and values added with
// AddSecret are scrubbed from a run's error message and log lines before
// they leave the plugin.
//
// The host validates input against that schema before the call and says so;
// the plugin then decodes it once, straight into the handler's input (when
// the host does not say so, as under sdktest, the plugin validates it
// first), so a handler always gets well-formed input. The host sends the
// plugin's configuration once when the process starts and again when it
// changes. Inside a handler, ConfigFrom returns the configuration values as
// they were when the run started, LoggerFrom a logger whose lines stream to
// the host while the action runs, and Progress reports progress. A returned
// error fails the run with its message; InputError names a bad field; a
// panic fails the run and leaves the process serving.
//
// Traces: the host's trace continues in the handler's context. When the
// plugin's environment names an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the host passes its own when it
// exports spans, or plugins.hcl's env entries set one), Serve exports
// spans over OTLP/HTTP: a span per call ("action plugin.key", the child of
// the host's plugin call span), and the handler's own, started with one
// line:
//
//	ctx, span := sdk.StartSpan(ctx, "fetch page")
//	defer span.End()
//
// (otel.Tracer works too: Serve installs the global tracer provider).
// Spans are batched (OTEL_BSP_* tune it) and flushed when the host stops
// the plugin; exporter errors go to stderr, never stdout. Without an
// endpoint nothing is set up, and spans are OpenTelemetry's no-op ones.
//
// Serve checks the definition first and exits non-zero with a message naming
// every problem. Started by hand, outside a host, the binary says what it is
// and how to install it, then exits 1. Package sdktest runs actions
// in-process for unit tests.
package sdk
