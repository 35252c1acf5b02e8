package pgtest

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestNewDB(t *testing.T) {
	a, b := NewDB(t), NewDB(t)
	if a == b {
		t.Fatalf("two databases with the same URL %s", a)
	}
	Exec(t, a, "CREATE TABLE x (id int PRIMARY KEY, name text)")
	Exec(t, a, "INSERT INTO x VALUES (1, 'one'), (2, NULL)")
	if got, want := Lines(t, a, "SELECT id, name FROM x ORDER BY id"), []string{"1|one", "2|NULL"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	if got := Lines(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("a table of one test's database is in another's: %q", got)
	}
	s := Shared(t)
	if got := Lines(t, s.SocketURL("postgres"), "SELECT current_setting('fsync')"); !slices.Equal(got, []string{"off"}) {
		t.Errorf("over the unix socket, fsync = %q", got)
	}
}

func TestFindBin(t *testing.T) {
	dir, err := FindBin()
	if err != nil {
		t.Skip(err)
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(dir + "/" + b); err != nil {
			t.Errorf("FindBin() = %s, without %s", dir, b)
		}
	}
}

func TestNotInstalled(t *testing.T) {
	old := debianBins
	debianBins = t.TempDir() + "/*/bin"
	t.Cleanup(func() { debianBins = old })
	t.Setenv("PATH", t.TempDir())
	_, err := FindBin()
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("FindBin without PostgreSQL: %v", err)
	}
	if _, err := Start(); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Start without PostgreSQL: %v", err)
	}
	t.Setenv(RequireEnv, "")
	if !skip(err) {
		t.Error("without PostgreSQL and without CDP_REQUIRE_POSTGRES the tests are not skipped")
	}
	t.Setenv(RequireEnv, "1")
	if skip(err) {
		t.Error("with CDP_REQUIRE_POSTGRES=1 the tests are skipped, not failed, without PostgreSQL")
	}
	if skip(errors.New("initdb failed")) {
		t.Error("a server that is installed but fails to start skips the tests")
	}
}
