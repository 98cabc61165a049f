package engine

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// Server is the plugin side of the gRPC protocol (version
// pluginrpc.ProtocolVersion).
type Server struct {
	pb.UnimplementedPluginServer
	local    *Local
	manifest []byte
	// config is what the host last sent with Configure. Until then runs
	// see an empty configuration.
	config atomic.Pointer[Config]
	// tracer makes a span per call when the plugin exports traces; nil
	// when it does not.
	tracer trace.Tracer
}

// NewServer serves l.
func NewServer(l *Local) (*Server, error) {
	m, err := json.Marshal(l.Manifest())
	if err != nil {
		return nil, err
	}
	s := &Server{local: l, manifest: m}
	s.config.Store(l.Configure(nil))
	return s, nil
}

// Describe answers the manifest.
func (s *Server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{ManifestJson: s.manifest}, nil
}

// ValidateConfig reports the problems with a configuration, without
// keeping it.
func (s *Server) ValidateConfig(_ context.Context, req *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	cfg, err := DecodeConfig(req.ConfigJson)
	if err != nil {
		return &pb.ValidateConfigResponse{Problems: []*pb.ConfigProblem{{Message: err.Error()}}}, nil
	}
	return &pb.ValidateConfigResponse{Problems: problems(s.local.CheckConfig(cfg))}, nil
}

// Configure keeps a configuration for the runs that start from now on,
// and reports its problems.
func (s *Server) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	cfg, err := DecodeConfig(req.ConfigJson)
	if err != nil {
		s.config.Store(invalidConfig(err))
		return &pb.ConfigureResponse{Problems: []*pb.ConfigProblem{{Message: err.Error()}}}, nil
	}
	s.config.Store(s.local.Configure(cfg))
	return &pb.ConfigureResponse{Problems: problems(s.local.CheckConfig(cfg))}, nil
}

func problems(ps []ConfigProblem) []*pb.ConfigProblem {
	var out []*pb.ConfigProblem
	for _, p := range ps {
		out = append(out, &pb.ConfigProblem{Key: p.Key, Message: p.Message})
	}
	return out
}

// Run runs one action with the configuration Configure last gave, and
// streams its events and result.
func (s *Server) Run(req *pb.RunRequest, stream pb.Plugin_RunServer) error {
	ctx := withTraceContext(stream.Context())
	if req.DeadlineUnixNano > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, req.DeadlineUnixNano))
		defer cancel()
	}
	ctx, endSpan := startActionSpan(ctx, s.tracer, s.local.Manifest().Name, req.Action, req.RunId)
	ev := &streamEvents{stream: stream}
	out, rerr := s.local.Run(ctx, req.RunId, req.Action, s.config.Load(), req.InputJson, req.InputChecked, ev)
	endSpan(rerr)
	ev.close()
	return stream.Send(ResultEvent(out, rerr))
}

// wireCodes maps the engine's error codes to the protocol's.
var wireCodes = map[string]pb.ErrorCode{
	CodeInvalidInput:  pb.ErrorCode_ERROR_CODE_INVALID_INPUT,
	CodeActionFailed:  pb.ErrorCode_ERROR_CODE_ACTION_FAILED,
	CodePanic:         pb.ErrorCode_ERROR_CODE_PANIC,
	CodeOutputInvalid: pb.ErrorCode_ERROR_CODE_OUTPUT_INVALID,
	CodeUnknownAction: pb.ErrorCode_ERROR_CODE_UNKNOWN_ACTION,
	CodeMisconfigured: pb.ErrorCode_ERROR_CODE_MISCONFIGURED,
}

// ResultEvent is the stream's last event: the output, or the error.
func ResultEvent(out []byte, rerr *Error) *pb.RunEvent {
	res := &pb.RunResult{OutputJson: out}
	if rerr != nil {
		kind, ok := wireCodes[rerr.Code]
		if !ok {
			kind = pb.ErrorCode_ERROR_CODE_ACTION_FAILED
		}
		res = &pb.RunResult{Error: &pb.RunError{Kind: kind, Message: rerr.Message, Field: rerr.Field}}
	}
	return &pb.RunEvent{Event: &pb.RunEvent_Result{Result: res}}
}

// streamEvents sends a handler's logs and progress to the host. gRPC streams
// allow one sender at a time, and handlers may report from goroutines.
type streamEvents struct {
	mu     sync.Mutex
	stream pb.Plugin_RunServer
	closed bool
}

func (e *streamEvents) send(ev *pb.RunEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		_ = e.stream.Send(ev)
	}
}

func (e *streamEvents) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
}

func (e *streamEvents) Log(level, msg string, fields map[string]any) {
	var raw []byte
	if len(fields) > 0 {
		raw, _ = json.Marshal(fields)
	}
	e.send(&pb.RunEvent{Event: &pb.RunEvent_Log{Log: &pb.LogEvent{
		Level: level, Message: msg, FieldsJson: raw, TimeUnixNano: time.Now().UnixNano(),
	}}})
}

func (e *streamEvents) Progress(fraction float64, msg string) {
	e.send(&pb.RunEvent{Event: &pb.RunEvent_Progress{Progress: &pb.ProgressEvent{Fraction: fraction, Message: msg}}})
}
