package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// debianBins is where Debian's postgresql packages put each version's binaries.
var debianBins = "/usr/lib/postgresql/*/bin"

// RequireEnv, set to 1, turns "PostgreSQL is not installed" from a skip into a failure.
const RequireEnv = "CDP_REQUIRE_POSTGRES"

// ErrNotInstalled is returned by Start when no PostgreSQL server binaries are found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or under /usr/lib/postgresql/*/bin; " +
	"install them with: apt-get install postgresql (or run scripts/install-test-deps.sh)")

// Server is a running throwaway PostgreSQL server.
type Server struct {
	Dir  string // holds the data directory, the unix socket and the log
	Port int    // on 127.0.0.1
	Bin  string // directory of the binaries used

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// URL is the address of database db on s, as the superuser postgres over TCP.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// SocketURL is the address of database db on s over its unix socket.
func (s *Server) SocketURL(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, s.Dir, s.Port)
}

// FindBin returns the directory holding initdb and postgres: the one on PATH, else the newest
// /usr/lib/postgresql/<version>/bin.
func FindBin() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob(debianBins)
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int {
		va, vb := version(a), version(b)
		switch {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

// Start initializes and starts a server in a new temporary directory. Stop it with Stop.
func Start() (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	cred, owner, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cdp-pgtest-")
	if err != nil {
		return nil, err
	}
	// The unix socket's path must fit in 107 bytes; a deep TMPDIR would break it.
	if len(dir) > 80 {
		os.RemoveAll(dir)
		if dir, err = os.MkdirTemp("/tmp", "cdp-pgtest-"); err != nil {
			return nil, err
		}
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: give %s to user %s, who runs the server since PostgreSQL refuses root: %w", dir, owner, err)
		}
	}
	s := &Server{Dir: dir, Bin: bin}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir = dir
	initdb.Env = env()
	initdb.SysProcAttr = procAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb (as %s): %w\n%s", owner, err, out)
	}
	// The free port is found by binding and closing it, so another process may take it before
	// the server does: try again with another port.
	for attempt := 0; ; attempt++ {
		err := s.start(data, cred)
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "could not create any TCP/IP sockets") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func (s *Server) start(data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	logPath := filepath.Join(s.Dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(filepath.Join(s.Bin, "postgres"), "-D", data, "-k", s.Dir, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "log_min_messages=warning")
	cmd.Dir = s.Dir
	cmd.Env = env()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr(cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres exited (%v) before accepting connections:\n%s", s.waitErr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("pgtest: postgres not accepting connections on port %d after 60s (last: %v):\n%s", port, err, log)
		}
	}
}

// Stop shuts the server down at once (no checkpoint: its data is thrown away) and removes its
// directory.
func (s *Server) Stop() error {
	s.kill()
	return os.RemoveAll(s.Dir)
}

func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// SIGQUIT is PostgreSQL's immediate shutdown: backends exit and shared memory is released.
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// env is the server's environment: the caller's without PG* variables, which would redirect
// initdb or postgres (PGDATA, PGPORT), in the C locale.
func env() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C", "LANG=C")
}

// runAs returns who runs the server: nil (the caller) unless the caller is root, which
// PostgreSQL refuses; then postgres, or nobody when there is no postgres user.
func runAs() (*syscall.Credential, string, error) {
	if os.Geteuid() != 0 {
		return nil, "the current user", nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, name, nil
	}
	return nil, "", errors.New("pgtest: running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as (it refuses root)")
}

// The test binary's shared server, started by the first test that needs it.
var (
	mu       sync.Mutex
	inMain   bool
	started  bool
	shared   *Server
	startErr error
	dbSeq    int
)

// Main runs the tests of a test binary and stops its shared server, if one was started. Call
// it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	mu.Lock()
	inMain = true
	mu.Unlock()
	code := m.Run()
	mu.Lock()
	s := shared
	shared, started = nil, false
	mu.Unlock()
	if s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop:", err)
		}
	}
	return code
}

// Shared returns the test binary's server, starting it on first use. Without PostgreSQL
// installed it skips t, or fails it when CDP_REQUIRE_POSTGRES=1.
func Shared(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !inMain {
		t.Fatal("pgtest: the package has no TestMain calling pgtest.Main, which stops the shared server: add func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	}
	if !started {
		started = true
		shared, startErr = Start()
	}
	if startErr != nil {
		if skip(startErr) {
			t.Skip(startErr)
		}
		t.Fatal(startErr)
	}
	return shared
}

// skip reports whether a server that could not start skips the tests rather than failing
// them: only when PostgreSQL is not installed and RequireEnv does not insist.
func skip(err error) bool {
	return errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1"
}

// NewDB creates an empty database on the shared server for t, dropped when t ends, and returns
// its URL.
func NewDB(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	mu.Lock()
	dbSeq++
	name := fmt.Sprintf("t_%d", dbSeq)
	mu.Unlock()
	Exec(t, s.URL("postgres"), "CREATE DATABASE "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// Connect opens a connection to url, closed when t ends.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// withConn runs fn on a new connection to url, with a minute for both, failing t when it
// cannot connect.
func withConn(t testing.TB, url string, fn func(ctx context.Context, conn *pgx.Conn)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	fn(ctx, conn)
}

// Exec runs sql on a new connection to url, failing t on error.
func Exec(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	withConn(t, url, func(ctx context.Context, conn *pgx.Conn) {
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("pgtest: %s: %v", sql, err)
		}
	})
}

// Lines runs sql on url and returns each row's values joined with "|", NULL as "NULL": compact
// to compare in tests.
func Lines(t testing.TB, url, sql string, args ...any) []string {
	t.Helper()
	var out []string
	withConn(t, url, func(ctx context.Context, conn *pgx.Conn) {
		rows, err := conn.Query(ctx, sql, args...)
		if err != nil {
			t.Fatalf("pgtest: %s: %v", sql, err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatalf("pgtest: %s: %v", sql, err)
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if v == nil {
					parts[i] = "NULL"
				} else if tm, ok := v.(time.Time); ok {
					parts[i] = tm.UTC().Format(time.RFC3339Nano)
				} else {
					parts[i] = fmt.Sprint(v)
				}
			}
			out = append(out, strings.Join(parts, "|"))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("pgtest: %s: %v", sql, err)
		}
	})
	return out
}
