// Command rawproto is a plugin written against the protocol itself, not
// the sdk: it says what the sdk never would (an error code the host does
// not know, output that is not JSON, an error without a code), and with
// TOOLHOST_TEST_PROTOCOL=1 it speaks protocol version 1 as plugins built
// with an sdk before version 2 do (configuration with every run, string
// error codes).
package main

import (
	"context"
	"encoding/json"
	"os"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"

	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

const manifest = `{"name":"rawproto","title":"Raw protocol","version":"0.1.0",
"configurationParameters":[{"key":"greeting","title":"Greeting","type":"string"}],
"actions":[
 {"key":"greet","title":"Greet","type":"read","inputSchema":{"type":"object","properties":{"name":{"type":"string"}},"additionalProperties":false},"outputSchema":{"type":"object","properties":{"greeting":{"type":"string"}}}},
 {"key":"unknownCode","title":"Unknown code","type":"read","inputSchema":{"type":"object"},"outputSchema":{"type":"object"}},
 {"key":"noCode","title":"No code","type":"read","inputSchema":{"type":"object"},"outputSchema":{"type":"object"}},
 {"key":"garbage","title":"Garbage","type":"read","inputSchema":{"type":"object"},"outputSchema":{"type":"object"}},
 {"key":"invalid","title":"Invalid","type":"read","inputSchema":{"type":"object"},"outputSchema":{"type":"object"}}
]}`

type server struct {
	pb.UnimplementedPluginServer
	v1     bool
	config atomic.Pointer[[]byte] // from Configure (v2)
}

func (s *server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{ManifestJson: []byte(manifest)}, nil
}

func (s *server) ValidateConfig(context.Context, *pb.ValidateConfigRequest) (*pb.ValidateConfigResponse, error) {
	return &pb.ValidateConfigResponse{}, nil
}

func (s *server) Configure(_ context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	s.config.Store(&req.ConfigJson)
	return &pb.ConfigureResponse{}, nil
}

func (s *server) Run(req *pb.RunRequest, stream pb.Plugin_RunServer) error {
	res := &pb.RunResult{}
	switch req.Action {
	case "greet":
		// Says where its configuration came from and whether the host
		// checked the input.
		var cfg []byte
		if p := s.config.Load(); p != nil {
			cfg = *p
		}
		if s.v1 {
			cfg = req.ConfigJson
		}
		var c struct{ Greeting string }
		var in struct{ Name string }
		_ = json.Unmarshal(cfg, &c)
		_ = json.Unmarshal(req.InputJson, &in)
		g := c.Greeting + " " + in.Name
		if req.InputChecked {
			g += " (checked)"
		}
		res.OutputJson, _ = json.Marshal(map[string]string{"greeting": g})
	case "unknownCode":
		res.Error = &pb.RunError{Kind: pb.ErrorCode(4242), Code: "invalid_input", Message: "a code from the future"}
	case "noCode":
		res.Error = &pb.RunError{Message: "failed without a code"}
	case "garbage":
		res.OutputJson = []byte("this is {not JSON")
	case "invalid":
		res.Error = &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_INVALID_INPUT, Field: "name", Message: "name: too short"}
		if s.v1 {
			res.Error = &pb.RunError{Code: "invalid_input", Message: "name: too short"}
		}
	}
	return stream.Send(&pb.RunEvent{Event: &pb.RunEvent_Result{Result: res}})
}

func main() {
	s := &server{v1: os.Getenv("TOOLHOST_TEST_PROTOCOL") == "1"}
	sets := pluginrpc.PluginSets(s)
	if s.v1 {
		sets = map[int]plugin.PluginSet{pluginrpc.ProtocolV1: sets[pluginrpc.ProtocolVersion]}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: sets,
		GRPCServer:       pluginrpc.NewServer,
	})
}
