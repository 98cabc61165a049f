// Package pluginrpc is the contract shared by the host and every plugin
// process: the go-plugin handshake, the versioned plugin set, the gRPC halves
// and the message limits. The wire messages live in the pb subpackage, which
// is generated from pb/plugin.proto (see generate.go).
package pluginrpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// ProtocolVersion is the plugin protocol version the sdk serves and the
// host prefers. Version 2 sends the configuration once with Configure
// instead of with every Run, says whether the host checked the input, and
// carries a run's error code as an ErrorCode instead of a string.
const ProtocolVersion = 2

// ProtocolV1 is the version plugins built with an sdk before version 2
// speak. The host still runs them: it sends their configuration with every
// run and reads their string error codes (see the supervisor).
const ProtocolV1 = 1

// PluginKey is the name of the one plugin each binary serves in its plugin set.
const PluginKey = "toolhost"

// MaxMessageSize caps a single gRPC message in either direction.
const MaxMessageSize = 16 << 20

// Handshake is the go-plugin handshake. The cookie only tells a binary that it
// was started by a toolhost host; it is not a security feature.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "TOOLHOST_PLUGIN_COOKIE",
	MagicCookieValue: "8f0c2a4e-toolhost-plugin-v1",
}

// ErrTooLarge reports a message over MaxMessageSize.
var ErrTooLarge = errors.New("message larger than the 16 MiB plugin protocol limit")

// PluginSets returns the versioned plugin sets. On the plugin side srv is
// the implementation, served as ProtocolVersion only. On the host side srv
// is nil, and the sets are every version the host can run: go-plugin
// settles on the highest one the plugin serves, and the client's
// NegotiatedVersion says which.
func PluginSets(srv pb.PluginServer) map[int]plugin.PluginSet {
	if srv != nil {
		return map[int]plugin.PluginSet{ProtocolVersion: {PluginKey: &GRPCPlugin{Impl: srv}}}
	}
	return map[int]plugin.PluginSet{
		ProtocolV1:      {PluginKey: &GRPCPlugin{}},
		ProtocolVersion: {PluginKey: &GRPCPlugin{}},
	}
}

// GRPCPlugin is the go-plugin glue for both halves of the protocol.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl pb.PluginServer
}

// GRPCServer registers the plugin's implementation.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, p.Impl)
	return nil
}

// GRPCClient hands the host a typed client.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewPluginClient(c), nil
}

// windowSize is both sides' fixed HTTP/2 flow-control window, per stream
// and per connection: one message of the largest size fits in it. A fixed
// window turns off gRPC's bandwidth estimator, which otherwise answers the
// first data of every call with a PING (and its ACK), waking both
// processes for two extra frames per run; over a local socket there is no
// bandwidth to discover.
const windowSize = MaxMessageSize

// NewServer builds the plugin side's gRPC server with raised message limits.
func NewServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts,
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
		grpc.StaticStreamWindowSize(windowSize),
		grpc.StaticConnWindowSize(windowSize),
	)
	return grpc.NewServer(opts...)
}

// DialOptions are the host side's gRPC options with raised message limits.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
		grpc.WithStaticStreamWindowSize(windowSize),
		grpc.WithStaticConnWindowSize(windowSize),
	}
}

// Explain turns a gRPC transport error into one a person can act on. Errors
// that are not gRPC statuses are returned unchanged.
func Explain(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.ResourceExhausted:
		return fmt.Errorf("%w: %s", ErrTooLarge, st.Message())
	case codes.Unavailable:
		return fmt.Errorf("plugin process unreachable: %s", st.Message())
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	}
	return fmt.Errorf("plugin call failed (%s): %s", st.Code(), st.Message())
}
