package store

// SetBoltBatch makes db group its hot-path writes with bbolt's DB.Batch
// instead of its own committer, so benchmarks can compare the two.
func SetBoltBatch(db *DB, on bool) { db.boltBatch = on }
