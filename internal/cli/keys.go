package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func keyCmd(e *env, args []string) error {
	return subcommand(e, "key", args, map[string]func(*env, []string) error{
		"create": keyCreate,
		"list":   keyList,
		"revoke": keyRevoke,
	})
}

// keyView is a key as the commands print it (the admin API's shape).
type keyView = client.Key

func viewKey(k *store.APIKey) keyView {
	return client.NewKey(k.Name, k.Prefix, k.Held(), k.CreatedAt, k.LastUsedAt)
}

// withKeyStore runs local on the store in the configured data directory;
// when a running server holds it, it says so and runs remote against the
// server's admin API instead.
func withKeyStore(e *env, lf *localFlags, what string, local func(backend.Store) error, remote func(*conn) error) error {
	cfg, err := lf.load(e)
	if err != nil {
		return err
	}
	db, err := openLocalStore(e, cfg, 0)
	if errors.Is(err, store.ErrInUse) {
		c := newClient(e)
		defer c.close()
		c.authHint = serverHoldsStoreHint(c)
		fmt.Fprintf(e.stderr, "toolhost: %v; %s through its admin API at %s (TOOLHOST_URL, with TOOLHOST_API_KEY)\n", err, what, c.base)
		return remote(c)
	}
	if err != nil {
		return fail(ExitFailed, "%v", err)
	}
	defer db.Close()
	return local(db)
}

func keyCreate(e *env, args []string) error {
	fs := newFlags(e, "key create", "--name NAME [--scopes read,run,admin] [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	var name, scopeList string
	fs.StringVar(&name, "name", "", "name of the key (letters, digits, _ . -; up to 64)")
	fs.StringVar(&scopeList, "scopes", strings.Join(domain.DefaultScopes, ","), "what the key may do, comma-separated: read (GET routes: its own runs and threads), run (run actions and assistants, write threads), admin (/v1/admin; every key's runs and threads), audit (read every key's runs and threads)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if name == "" && len(pos) == 1 {
		name, pos = pos[0], nil
	}
	if len(pos) > 0 {
		return fail(ExitUsage, "key create takes --name NAME and no other arguments (got %q)", pos)
	}
	if name == "" {
		return fail(ExitUsage, "key create needs --name NAME")
	}
	scopes, err := parseScopes(scopeList)
	if err != nil {
		return err
	}
	var created keyView
	err = withKeyStore(e, lf, "creating the key",
		func(db backend.Store) error {
			plain, k, err := db.Keys().CreateKey(context.Background(), name, scopes...)
			if err != nil {
				return storeError(err)
			}
			created = viewKey(k)
			created.Key = plain
			return nil
		},
		func(c *conn) error {
			return c.call(http.MethodPost, "/v1/admin/keys", map[string]any{"name": name, "scopes": scopes}, &created)
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created API key %q (prefix %s, scopes %s):\n\n    %s\n\n", created.Name, created.Prefix, strings.Join(created.Scopes, ","), created.Key)
	fmt.Fprintln(e.stdout, "This key will not be shown again: store it now. Send it as the x-api-key header, or set TOOLHOST_API_KEY for these commands.")
	return nil
}

// parseScopes splits --scopes; the store checks each name.
func parseScopes(list string) ([]string, error) {
	var scopes []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 0 {
		return nil, fail(ExitUsage, "--scopes needs at least one of %s", strings.Join(store.Scopes, ", "))
	}
	return scopes, nil
}

// storeError maps store errors to exit codes.
func storeError(err error) error {
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrNotFound):
		return fail(ExitUsage, "%v", err)
	}
	return fail(ExitFailed, "%v", err)
}

func keyList(e *env, args []string) error {
	fs := newFlags(e, "key list", "[--json] [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	keys := []keyView{}
	err := withKeyStore(e, lf, "listing keys",
		func(db backend.Store) error {
			ks, err := db.Keys().ListKeys(context.Background())
			if err != nil {
				return fail(ExitFailed, "%v", err)
			}
			for _, k := range ks {
				keys = append(keys, viewKey(k))
			}
			return nil
		},
		func(c *conn) error { return c.call(http.MethodGet, "/v1/admin/keys", nil, &keys) })
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, keys)
	}
	if len(keys) == 0 {
		fmt.Fprintln(e.stdout, "no API keys; create one with: toolhost key create --name NAME")
		return nil
	}
	t := newTable(e.stdout, "NAME", "PREFIX", "SCOPES", "CREATED", "LAST USED")
	for _, k := range keys {
		last := "never"
		if k.LastUsedAt != "" {
			last = localTime(parseTime(k.LastUsedAt))
		}
		t.row(k.Name, k.Prefix+"…", strings.Join(k.Scopes, ","), localTime(parseTime(k.CreatedAt)), last)
	}
	t.flush()
	return nil
}

func keyRevoke(e *env, args []string) error {
	fs := newFlags(e, "key revoke", "NAME [--config plugins.hcl] [--data-dir dir]")
	lf := addLocalFlags(e, fs)
	name, err := parseOneArg(fs, args, "key NAME (see toolhost key list)")
	if err != nil {
		return err
	}
	err = withKeyStore(e, lf, "revoking the key",
		func(db backend.Store) error {
			if err := db.Keys().RevokeKey(context.Background(), name); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fail(ExitUsage, "no key named %q (see toolhost key list)", name)
				}
				return fail(ExitFailed, "%v", err)
			}
			return nil
		},
		func(c *conn) error {
			return c.call(http.MethodDelete, "/v1/admin/keys/"+pathEscape(name), nil, nil)
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Revoked key %q: it no longer authenticates.\n", name)
	return nil
}
