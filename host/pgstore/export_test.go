package pgstore

// Halt stops the replica as a kill -9 would for the others: no more
// heartbeats, nothing sent, the lease left to expire.
func (c *Cluster) Halt() {
	c.once.Do(func() {
		c.stop()
		close(c.outbox)
		close(c.disowned)
		c.bg.Wait()
	})
}
