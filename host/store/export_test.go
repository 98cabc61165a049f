package store

// SetBoltBatch makes db group its hot-path writes with bbolt's DB.Batch
// instead of its own committer, so benchmarks can compare the two.
func SetBoltBatch(db *DB, on bool) { db.boltBatch = on }

// Commits returns how many group commits db's committer has run.
func Commits(db *DB) int64 { return db.commit.commits.Load() }
