package pgstore

// The store's records, one type per aggregate, as in host/store: each is a
// view of the same database.
type (
	// Runs keeps runs and their events.
	Runs struct{ db *DB }
	// Threads keeps threads and their messages.
	Threads struct{ db *DB }
	// Keys keeps API keys (as digests).
	Keys struct{ db *DB }
	// Plugins keeps installed plugins' config (secrets sealed) and the
	// manifest cache.
	Plugins struct{ db *DB }
	// Idempotency keeps the runs made for requests with an idempotency key.
	Idempotency struct{ db *DB }
)

// Runs returns the run store.
func (db *DB) Runs() Runs { return Runs{db} }

// Threads returns the thread store.
func (db *DB) Threads() Threads { return Threads{db} }

// Keys returns the API key store.
func (db *DB) Keys() Keys { return Keys{db} }

// Plugins returns the installed-plugin store.
func (db *DB) Plugins() Plugins { return Plugins{db} }

// Idempotency returns the idempotency record store.
func (db *DB) Idempotency() Idempotency { return Idempotency{db} }

// Health is nil while the database answers (see DB.Health).
func (rs Runs) Health() error { return rs.db.Health() }
