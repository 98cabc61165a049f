package supervisor

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/manifest"
)

// DescribeBinary starts the binary at path as a plugin, reads and checks its
// manifest, and stops it. It is how the CLI inspects a plugin before
// installing it.
func DescribeBinary(ctx context.Context, path string, startTimeout time.Duration) (*manifest.Plugin, []byte, error) {
	if startTimeout <= 0 {
		startTimeout = config.DefaultStartTimeout
	}
	inst, err := launch(launchOptions{
		spec:         config.Plugin{Name: "describe", Path: path},
		startTimeout: startTimeout, logger: hclog.NewNullLogger(), getenv: func(string) string { return "" },
	})
	if err != nil {
		return nil, nil, err
	}
	defer inst.kill()
	dctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	raw, err := inst.describe(dctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Decode(raw)
	return m, raw, err
}
