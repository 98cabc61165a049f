package supervisor

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// TestRunErrorCodes: each protocol error code maps to its domain code;
// codes the host does not know, no code, and v1 string codes from a v2
// plugin are action_failed; a v1 plugin's string codes still map.
func TestRunErrorCodes(t *testing.T) {
	v2, v1 := pluginrpc.ProtocolVersion, pluginrpc.ProtocolV1
	for _, c := range []struct {
		name    string
		version int
		err     *pb.RunError
		code    string
	}{
		{"invalid input", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_INVALID_INPUT}, domain.CodeInvalidInput},
		{"action failed", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_ACTION_FAILED}, domain.CodeActionFailed},
		{"panic", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_PANIC}, domain.CodeActionFailed},
		{"output invalid", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_OUTPUT_INVALID}, domain.CodeOutputInvalid},
		{"unknown action", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_UNKNOWN_ACTION}, domain.CodeActionFailed},
		{"misconfigured", v2, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_MISCONFIGURED}, domain.CodeMisconfigured},
		{"no code", v2, &pb.RunError{}, domain.CodeActionFailed},
		{"unknown code", v2, &pb.RunError{Kind: pb.ErrorCode(4242)}, domain.CodeActionFailed},
		{"negative code", v2, &pb.RunError{Kind: pb.ErrorCode(-1)}, domain.CodeActionFailed},
		{"v1 string from a v2 plugin", v2, &pb.RunError{Code: "invalid_input"}, domain.CodeActionFailed},
		{"v1 invalid input", v1, &pb.RunError{Code: "invalid_input"}, domain.CodeInvalidInput},
		{"v1 misconfigured", v1, &pb.RunError{Code: "misconfigured"}, domain.CodeMisconfigured},
		{"v1 output invalid", v1, &pb.RunError{Code: "output_invalid"}, domain.CodeOutputInvalid},
		{"v1 panic", v1, &pb.RunError{Code: "panic"}, domain.CodeActionFailed},
		{"v1 made-up code", v1, &pb.RunError{Code: "plugin_unavailable"}, domain.CodeActionFailed},
		{"v1 no code", v1, &pb.RunError{}, domain.CodeActionFailed},
		{"v1 enum ignored", v1, &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_INVALID_INPUT}, domain.CodeActionFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.err.Message = "it went wrong"
			f := runError(c.err, c.version, func(s string) string { return s })
			if f.Code != c.code || f.Message != "it went wrong" {
				t.Fatalf("got %s %q, want %s", f.Code, f.Message, c.code)
			}
		})
	}
}

func TestRunErrorNamesTheField(t *testing.T) {
	f := runError(&pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_INVALID_INPUT, Field: "cc", Message: "cc: not an address"}, pluginrpc.ProtocolVersion, func(s string) string { return s })
	if len(f.Fields) != 1 || f.Fields[0].Field != "cc" || f.Fields[0].Message != "not an address" {
		t.Fatalf("fields %+v", f.Fields)
	}
	f = runError(&pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_ACTION_FAILED, Field: "cc", Message: "x"}, pluginrpc.ProtocolVersion, func(s string) string { return s })
	if len(f.Fields) != 0 {
		t.Fatalf("fields %+v on action_failed", f.Fields)
	}
	f = runError(&pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_ACTION_FAILED, Message: " "}, pluginrpc.ProtocolVersion, func(s string) string { return s })
	if f.Message == "" || strings.TrimSpace(f.Message) == "" {
		t.Fatalf("empty message kept: %q", f.Message)
	}
}

// FuzzRunResult decodes arbitrary bytes as a plugin's RunResult, as the
// host reads one off the wire, and maps it: never a panic; a failure is
// always one of the codes a plugin may cause, with a message, and never
// quotes the secret.
func FuzzRunResult(f *testing.F) {
	for _, r := range []*pb.RunResult{
		{OutputJson: []byte(`{"a":1}`)},
		{Error: &pb.RunError{Kind: pb.ErrorCode_ERROR_CODE_INVALID_INPUT, Field: "x", Message: "x: bad"}},
		{Error: &pb.RunError{Kind: pb.ErrorCode(99), Message: "tok-secret-1 leaked"}},
		{Error: &pb.RunError{Code: "misconfigured", Message: "m"}},
	} {
		raw, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, true)
		f.Add(raw, false)
	}
	p := &Plugin{secrets: newSecrets(map[string]string{"token": "tok-secret-1"})}
	allowed := map[string]bool{domain.CodeInvalidInput: true, domain.CodeActionFailed: true, domain.CodeOutputInvalid: true, domain.CodeMisconfigured: true}
	f.Fuzz(func(t *testing.T, raw []byte, v2 bool) {
		var r pb.RunResult
		if proto.Unmarshal(raw, &r) != nil {
			return
		}
		version := pluginrpc.ProtocolV1
		if v2 {
			version = pluginrpc.ProtocolVersion
		}
		out, err := p.result(&r, version, time.Now().Add(time.Hour), time.Hour)
		if err == nil {
			if r.Error != nil || string(out) != string(r.OutputJson) {
				t.Fatalf("output %q for %v", out, &r)
			}
			return
		}
		e := domain.AsError(err)
		if !allowed[e.Code] || e.Message == "" || strings.Contains(e.Message, "tok-secret-1") {
			t.Fatalf("error %s %q for %v", e.Code, e.Message, &r)
		}
	})
}
