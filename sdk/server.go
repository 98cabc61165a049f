package sdk

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// server is the plugin side of the gRPC protocol.
type server struct {
	pb.UnimplementedPluginServer
	local    *Local
	manifest []byte
}

func newServer(l *Local) (*server, error) {
	m, err := json.Marshal(l.Manifest())
	if err != nil {
		return nil, err
	}
	return &server{local: l, manifest: m}, nil
}

func (s *server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{ManifestJson: s.manifest}, nil
}

func (s *server) ValidateConfig(_ context.Context, req *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	cfg, err := decodeConfig(req.ConfigJson)
	if err != nil {
		return &pb.ValidateConfigResponse{Problems: []*pb.ConfigProblem{{Message: err.Error()}}}, nil
	}
	resp := &pb.ValidateConfigResponse{}
	for _, p := range s.local.CheckConfig(cfg) {
		resp.Problems = append(resp.Problems, &pb.ConfigProblem{Key: p.Key, Message: p.Message})
	}
	return resp, nil
}

func (s *server) Run(req *pb.RunRequest, stream pb.Plugin_RunServer) error {
	cfg, err := decodeConfig(req.ConfigJson)
	if err != nil {
		return stream.Send(resultEvent(nil, &Error{Code: CodeMisconfigured, Message: err.Error()}))
	}
	ctx := stream.Context()
	if req.DeadlineUnixNano > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, req.DeadlineUnixNano))
		defer cancel()
	}
	ev := &streamEvents{stream: stream}
	out, rerr := s.local.Run(ctx, req.RunId, req.Action, cfg, req.InputJson, ev)
	ev.close()
	return stream.Send(resultEvent(out, rerr))
}

func decodeConfig(raw []byte) (Config, error) {
	cfg := Config{}
	if len(raw) == 0 {
		return cfg, nil
	}
	err := json.Unmarshal(raw, &cfg)
	return cfg, err
}

func resultEvent(out []byte, rerr *Error) *pb.RunEvent {
	res := &pb.RunResult{OutputJson: out}
	if rerr != nil {
		res = &pb.RunResult{Error: &pb.RunError{Code: rerr.Code, Message: rerr.Message}}
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
