package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Store backends.
const (
	BackendBolt     = "bbolt"
	BackendPostgres = "postgres"
)

// Store says where the host keeps its state: the bbolt file in DataDir
// (the default), or a PostgreSQL database that several toolhost replicas
// may share.
type Store struct {
	Backend string // BackendBolt or BackendPostgres
	DSN     string // postgres only: the database URL or key=value DSN
	// Lease is how long a replica's lease on the database lasts without a
	// heartbeat (postgres only; 0: the default, 15s): a replica that dies
	// has its runs failed as interrupted about this long after.
	Lease time.Duration
}

type storeBlock struct {
	Backend  *string        `hcl:"backend"`
	DSN      hcl.Expression `hcl:"dsn,optional"`
	Lease    hcl.Expression `hcl:"lease,optional"`
	DefRange hcl.Range      `hcl:",def_range"`
}

func (d *decoder) buildStore(b *storeBlock, s *Store) {
	s.Backend = BackendBolt
	if b == nil {
		return
	}
	s.Backend = str(b.Backend, BackendBolt)
	dsn, set := d.value(b.DSN)
	rng := b.DefRange
	if set {
		rng = b.DSN.Range()
		if dsn.IsNull() || !dsn.IsKnown() || dsn.Type() != cty.String {
			d.errorf(rng, "Invalid store dsn", "store dsn must be a string, such as env(\"TOOLHOST_DATABASE_URL\")")
			return
		}
		s.DSN = dsn.AsString()
	}
	s.Lease = d.duration(b.Lease, "store lease", 0)
	if s.Lease != 0 && s.Lease < 300*time.Millisecond {
		d.errorf(b.Lease.Range(), "Invalid store lease", "store lease must be at least 300ms (the heartbeat renews it every third of it), got %s", s.Lease)
	}
	switch s.Backend {
	case BackendBolt:
		if s.DSN != "" {
			d.errorf(rng, "Invalid store block", "store dsn is for backend = %q; the %q backend keeps its file in data_dir", BackendPostgres, BackendBolt)
		}
		if s.Lease != 0 {
			d.errorf(b.Lease.Range(), "Invalid store block", "store lease is for backend = %q: replicas share a PostgreSQL database, never a bbolt file", BackendPostgres)
		}
	case BackendPostgres:
		if s.DSN == "" {
			d.errorf(rng, "Missing store dsn", "store backend %q needs dsn, such as dsn = env(\"TOOLHOST_DATABASE_URL\") (is the variable set?)", BackendPostgres)
		}
	default:
		d.errorf(b.DefRange, "Invalid store backend", "store backend must be %q or %q, got %q", BackendBolt, BackendPostgres, s.Backend)
	}
}
