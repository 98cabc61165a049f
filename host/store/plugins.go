package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// storedPlugin is a PluginRecord as written: Config holds only the values
// that are not secret; the secret ones are in Sealed, encrypted.
type storedPlugin struct {
	PluginRecord
	Sealed map[string][]byte `json:"sealed_config,omitempty"`
}

// PutPlugin creates or replaces the plugin p.Name. Config values whose keys
// are in p.SecretKeys are sealed before they are written. It sets
// UpdatedAt, and InstalledAt when the plugin is new.
func (ps Plugins) PutPlugin(ctx context.Context, p *PluginRecord) error {
	if p.Name == "" {
		return invalidf("plugin name is empty")
	}
	now := time.Now().UTC()
	err := ps.db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPlugins)
		installed := p.InstalledAt
		if old := b.Get([]byte(p.Name)); old != nil && installed.IsZero() {
			var prev storedPlugin
			if err := json.Unmarshal(old, &prev); err == nil {
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
		if err := b.Put([]byte(p.Name), enc); err != nil {
			return err
		}
		p.InstalledAt, p.UpdatedAt = installed, now
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing plugin %q: %w", p.Name, err)
	}
	return nil
}

// EncodePlugin seals p's secret values and encodes it as stored.
func (s *Sealer) EncodePlugin(p *PluginRecord) ([]byte, error) {
	sp := storedPlugin{PluginRecord: *p}
	sp.Config = make(map[string]string, len(p.Config))
	maps.Copy(sp.Config, p.Config)
	for _, k := range p.SecretKeys {
		v, ok := sp.Config[k]
		if !ok {
			continue
		}
		sealed, err := s.seal(p.Name, k, v)
		if err != nil {
			return nil, err
		}
		if sp.Sealed == nil {
			sp.Sealed = make(map[string][]byte)
		}
		sp.Sealed[k] = sealed
		delete(sp.Config, k)
	}
	if len(sp.Config) == 0 {
		sp.Config = nil
	}
	return json.Marshal(sp)
}

// DecodePlugin decodes a stored plugin and opens its sealed values.
func (s *Sealer) DecodePlugin(v []byte) (*PluginRecord, error) {
	var sp storedPlugin
	if err := json.Unmarshal(v, &sp); err != nil {
		return nil, fmt.Errorf("decoding plugin: %w", err)
	}
	p := sp.PluginRecord
	for _, k := range slices.Sorted(maps.Keys(sp.Sealed)) {
		plain, err := s.open(p.Name, k, sp.Sealed[k])
		if err != nil {
			return nil, err
		}
		if p.Config == nil {
			p.Config = make(map[string]string)
		}
		p.Config[k] = plain
	}
	return &p, nil
}

// GetPlugin returns the plugin called name with its config opened, or
// ErrNotFound.
func (ps Plugins) GetPlugin(ctx context.Context, name string) (*PluginRecord, error) {
	var p *PluginRecord
	err := ps.db.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketPlugins).Get([]byte(name))
		if v == nil {
			return ErrNotFound
		}
		var err error
		p, err = ps.db.sealer.DecodePlugin(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", name, err)
	}
	return p, nil
}

// ListPlugins returns every plugin, by name, with config opened.
func (ps Plugins) ListPlugins(ctx context.Context) ([]*PluginRecord, error) {
	var list []*PluginRecord
	err := ps.db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketPlugins).ForEach(func(k, v []byte) error {
			p, err := ps.db.sealer.DecodePlugin(v)
			if err != nil {
				return fmt.Errorf("plugin %q: %w", k, err)
			}
			list = append(list, p)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing plugins: %w", err)
	}
	return list, nil
}

// DeletePlugin removes the plugin called name, or returns ErrNotFound.
func (ps Plugins) DeletePlugin(ctx context.Context, name string) error {
	err := ps.db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPlugins)
		if b.Get([]byte(name)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("deleting plugin %q: %w", name, err)
	}
	return nil
}

// PutManifest caches the raw manifest of the plugin binary whose SHA-256
// (hex) is sha, so an unchanged binary need not be started to describe it.
func (ps Plugins) PutManifest(ctx context.Context, sha string, raw []byte) error {
	if sha == "" {
		return invalidf("manifest sha256 is empty")
	}
	err := ps.db.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketManifests).Put([]byte(sha), raw)
	})
	if err != nil {
		return fmt.Errorf("caching manifest %s: %w", sha, err)
	}
	return nil
}

// GetManifest returns the manifest cached for sha, or ErrNotFound.
func (ps Plugins) GetManifest(ctx context.Context, sha string) ([]byte, error) {
	var raw []byte
	err := ps.db.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketManifests).Get([]byte(sha))
		if v == nil {
			return ErrNotFound
		}
		raw = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", sha, err)
	}
	return raw, nil
}
