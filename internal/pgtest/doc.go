// Package pgtest runs a throwaway PostgreSQL cluster for tests: Debian's
// postgresql binaries (initdb, postgres), a cluster created in a temporary
// directory and run as a non-root user (PostgreSQL refuses to run as
// root), listening on 127.0.0.1 on a free port. fsync stays on: the tests
// measure and exercise the database as it runs in production.
//
// One cluster serves a whole test binary. It starts on first use and is
// stopped and removed by Main, which a package's TestMain calls; each test
// gets a database of its own from DSN. The postgres process is in its own
// process group with a parent-death signal, so it never outlives the test
// binary even when Main does not run (a panic, a kill).
//
// When the binaries are absent, DSN skips the test with a message naming
// the package to install.
package pgtest
