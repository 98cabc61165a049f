package supervisor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// instance is one running process of a plugin.
type instance struct {
	client  *plugin.Client
	rpc     pb.PluginClient
	version int // the protocol version the plugin speaks
	pid     int
	stderr  *tail
	started time.Time
	exited  chan struct{} // closed once the process is gone
	sha256  string        // the binary's digest, when a pin made launch compute it
	calls   sync.WaitGroup
	stopped bool // set under Plugin.mu when the host stops it on purpose
}

// ErrChecksum reports a binary whose sha256 differs from the pinned one.
var ErrChecksum = errors.New("checksum mismatch")

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type launchOptions struct {
	spec         config.Plugin
	startTimeout time.Duration
	logger       hclog.Logger // scrubs secrets (go-plugin relays stderr through it)
	getenv       func(string) string
	// extraEnv adds to the environment (Options.ExtraEnv); nil: nothing.
	extraEnv    func(plugin string, env []string) []string
	secrets     *secrets     // scrubbed from the stderr kept for messages
	outputLimit *lineLimiter // the plugin's printed lines; nil: no limit
}

// launch starts the plugin process and completes the go-plugin handshake.
func launch(o launchOptions) (*instance, error) {
	spec := o.spec
	if _, err := os.Stat(spec.Path); err != nil {
		return nil, fmt.Errorf("binary %s: %w", spec.Path, err)
	}
	var secure *plugin.SecureConfig
	if spec.SHA256 != "" {
		sum, err := fileSHA256(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("hash binary %s: %w", spec.Path, err)
		}
		if sum != spec.SHA256 {
			return nil, fmt.Errorf("%w for %s: expected sha256 %s, got %s; the plugin was not started", ErrChecksum, spec.Path, spec.SHA256, sum)
		}
		raw, _ := hex.DecodeString(sum)
		secure = &plugin.SecureConfig{Checksum: raw, Hash: sha256.New()}
	}
	pinned := spec.SHA256
	cmd := exec.Command(spec.Path)
	cmd.Env = o.env()
	isolate(cmd)
	inst := &instance{stderr: newTail(4096, o.secrets), exited: make(chan struct{}), sha256: pinned}
	inst.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginrpc.Handshake,
		VersionedPlugins: pluginrpc.PluginSets(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         spec.AutoMTLS,
		SkipHostEnv:      true,
		Managed:          true,
		SecureConfig:     secure,
		StartTimeout:     o.startTimeout,
		Logger:           o.logger,
		Stderr:           inst.stderr,
		SyncStdout:       newOutputLogger(o.logger, "stdout").limit(o.outputLimit),
		SyncStderr:       newOutputLogger(o.logger, "stderr").limit(o.outputLimit),
		GRPCDialOptions:  pluginrpc.DialOptions(),
	})
	var err error
	onLauncherThread(func() { err = inst.connect() })
	if err != nil {
		inst.kill()
		return nil, inst.explainStart(err)
	}
	inst.started = time.Now()
	go inst.watch()
	return inst, nil
}

func (i *instance) connect() error {
	proto, err := i.client.Client()
	if err != nil {
		return err
	}
	if rc := i.client.ReattachConfig(); rc != nil {
		i.pid = rc.Pid
	}
	raw, err := proto.Dispense(pluginrpc.PluginKey)
	if err != nil {
		return fmt.Errorf("dispense: %w", err)
	}
	rpc, ok := raw.(pb.PluginClient)
	if !ok {
		return fmt.Errorf("plugin served %T, not the toolhost protocol", raw)
	}
	i.rpc = rpc
	i.version = i.client.NegotiatedVersion()
	return nil
}

// explainStart turns go-plugin's start errors into messages that say what
// went wrong, with what the plugin printed to stderr.
func (i *instance) explainStart(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		msg = "the plugin did not complete its handshake in time (start timeout); is it a toolhost plugin built with sdk.Serve?"
	case strings.Contains(msg, "Unrecognized remote plugin message: \n"):
		msg = "the plugin exited before its handshake"
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		first, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		msg = fmt.Sprintf("the plugin wrote %q to stdout before its handshake; plugins must not print to stdout", first)
	case strings.Contains(msg, "exec format error"), strings.Contains(msg, "permission denied"):
		msg = "the file is not an executable plugin: " + msg
	case strings.Contains(msg, "plugin exited before we could connect"):
		msg = "the plugin exited before its handshake"
	case strings.Contains(msg, "Incompatible API version"), strings.Contains(msg, "Incompatible core API version"):
		msg = "the plugin speaks another protocol version: " + msg
	case strings.Contains(msg, "checksums did not match"):
		msg = "checksum mismatch at start (the binary changed while starting)"
	}
	if said := lastLines(i.stderr.String(), 5); said != "" {
		msg += "; it said: " + said
	}
	return errors.New(msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, " | "))
}

// watch closes exited when the process is gone.
func (i *instance) watch() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		if i.client.Exited() {
			close(i.exited)
			return
		}
	}
}

func (i *instance) isExited() bool {
	select {
	case <-i.exited:
		return true
	default:
		return false
	}
}

// kill stops the process and its process group at once.
func (i *instance) kill() {
	pid := i.pid
	i.client.Kill()
	killGroup(pid)
}

// describe asks the plugin for its manifest.
func (i *instance) describe(ctx context.Context) ([]byte, error) {
	resp, err := i.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", pluginrpc.Explain(err))
	}
	return resp.ManifestJson, nil
}

// env is the plugin process's environment: its block's entries, then
// what extraEnv adds to them.
func (o launchOptions) env() []string {
	env := pluginEnv(o.spec.Env, o.getenv)
	if o.extraEnv != nil {
		env = append(env, o.extraEnv(o.spec.Name, env)...)
	}
	return env
}

// pluginEnv builds the plugin's environment from its declared entries only.
func pluginEnv(entries []string, getenv func(string) string) []string {
	env := []string{}
	for _, e := range entries {
		if strings.Contains(e, "=") {
			env = append(env, e)
			continue
		}
		if v := getenv(e); v != "" {
			env = append(env, e+"="+v)
		}
	}
	return env
}
