package cli

// serverHoldsStoreHint is the advice for a 401 from a command that went to
// the server's admin API because the server holds the database. Making a
// key with `toolhost key create` would fail the same way, so it is not
// what this advises.
func serverHoldsStoreHint(c *conn) string {
	if c.key == "" {
		return "TOOLHOST_API_KEY is not set, and the running server holds the database, so this went through its admin API, which needs a key with the admin scope: " +
			"set TOOLHOST_API_KEY to the key `toolhost serve` printed when it first started (or to the TOOLHOST_API_KEY the server was started with), " +
			"or stop the server and run this command again (it then uses the database directly)"
	}
	return "TOOLHOST_API_KEY is not a key this server accepts, and the running server holds the database, so this went through its admin API: " +
		"set TOOLHOST_API_KEY to a key with the admin scope (the one `toolhost serve` printed when it first started, or the TOOLHOST_API_KEY the server was started with), " +
		"or stop the server and run this command again (it then uses the database directly)"
}
