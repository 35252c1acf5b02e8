// Package pgtest starts a throwaway PostgreSQL server for tests, so code that talks to
// PostgreSQL is tested against the real thing rather than a fake that agrees with it.
//
// One server serves a whole test binary; each test gets a fresh database:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDB(t) // postgres://postgres@127.0.0.1:PORT/t_3?sslmode=disable
//		...
//	}
//
// The server starts on the first NewDB, not in TestMain, so a package whose other tests do not
// need PostgreSQL does not pay for it. It is initdb'd into a temporary directory, listens on a
// unix socket there and on 127.0.0.1 at a free port, trusts every local connection, runs with
// fsync off, and is killed with its directory when the tests end (or with the test binary, if
// that dies first).
//
// The binaries (initdb, postgres) are looked up on PATH, then under /usr/lib/postgresql/*/bin
// (Debian's layout), newest version first. Without them, tests that need a server are skipped
// with a message saying how to install it (apt-get install postgresql) — or fail with it when
// CDP_REQUIRE_POSTGRES=1, as `make test` sets, so CI cannot pass by skipping them.
//
// PostgreSQL refuses to run as root; as root the server runs as the postgres user (Debian's
// package creates it), else as nobody.
package pgtest
