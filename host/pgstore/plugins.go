package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
)

// PutPlugin creates or replaces the plugin p.Name. Config values whose
// keys are in p.SecretKeys are sealed before they are sent to the
// database. It sets UpdatedAt, and InstalledAt when the plugin is new.
func (ps Plugins) PutPlugin(ctx context.Context, p *domain.PluginRecord) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	if p.Name == "" {
		return invalidf("plugin name is empty")
	}
	now := time.Now().UTC()
	var installed time.Time
	err := ps.db.inTx(ctx, func(tx pgx.Tx) error {
		installed = p.InstalledAt
		if installed.IsZero() {
			var old []byte
			err := tx.QueryRow(ctx, "SELECT record FROM plugins WHERE name = $1 FOR UPDATE", p.Name).Scan(&old)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			var prev struct {
				InstalledAt time.Time `json:"installed_at"`
			}
			if old != nil && json.Unmarshal(old, &prev) == nil {
				installed = prev.InstalledAt
			}
		}
		if installed.IsZero() {
			installed = now
		}
		rec := *p
		rec.InstalledAt, rec.UpdatedAt = installed, now
		enc, err := ps.db.sealer.EncodePlugin(&rec)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO plugins (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = EXCLUDED.record", p.Name, enc)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing plugin %q: %w", p.Name, err)
	}
	p.InstalledAt, p.UpdatedAt = installed, now
	return nil
}

// GetPlugin returns the plugin called name with its config opened, or
// ErrNotFound.
func (ps Plugins) GetPlugin(ctx context.Context, name string) (*domain.PluginRecord, error) {
	var v []byte
	err := ps.db.pool.QueryRow(ctx, "SELECT record FROM plugins WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("plugin %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, ps.db.fail(fmt.Sprintf("reading plugin %q", name), err)
	}
	p, err := ps.db.sealer.DecodePlugin(v)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", name, err)
	}
	return p, nil
}

// ListPlugins returns every plugin, by name, with config opened.
func (ps Plugins) ListPlugins(ctx context.Context) ([]*domain.PluginRecord, error) {
	rows, err := ps.db.pool.Query(ctx, `SELECT name, record FROM plugins ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, ps.db.fail("listing plugins", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*domain.PluginRecord, error) {
		var name string
		var v []byte
		if err := row.Scan(&name, &v); err != nil {
			return nil, err
		}
		p, err := ps.db.sealer.DecodePlugin(v)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", name, err)
		}
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing plugins: %w", ps.db.scrub(err))
	}
	return list, nil
}

// DeletePlugin removes the plugin called name, or returns ErrNotFound.
func (ps Plugins) DeletePlugin(ctx context.Context, name string) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	tag, err := ps.db.pool.Exec(ctx, "DELETE FROM plugins WHERE name = $1", name)
	if err != nil {
		return ps.db.fail(fmt.Sprintf("deleting plugin %q", name), err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("deleting plugin %q: %w", name, ErrNotFound)
	}
	return nil
}

// PutManifest caches the raw manifest of the plugin binary whose SHA-256
// (hex) is sha, so an unchanged binary need not be started to describe it.
func (ps Plugins) PutManifest(ctx context.Context, sha string, raw []byte) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	if sha == "" {
		return invalidf("manifest sha256 is empty")
	}
	if raw == nil {
		raw = []byte{}
	}
	_, err := ps.db.pool.Exec(ctx, "INSERT INTO manifests (sha256, raw) VALUES ($1, $2) ON CONFLICT (sha256) DO UPDATE SET raw = EXCLUDED.raw", sha, raw)
	return ps.db.fail("caching manifest "+sha, err)
}

// GetManifest returns the manifest cached for sha, or ErrNotFound.
func (ps Plugins) GetManifest(ctx context.Context, sha string) ([]byte, error) {
	var raw []byte
	err := ps.db.pool.QueryRow(ctx, "SELECT raw FROM manifests WHERE sha256 = $1", sha).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("manifest %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, ps.db.fail("reading manifest "+sha, err)
	}
	return raw, nil
}
