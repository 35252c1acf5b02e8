package duckdb

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/warehousetest"
)

func openWarehouse(t *testing.T, cfg warehouse.Config) warehouse.Warehouse {
	t.Helper()
	cfg.Type = "duckdb"
	w, err := warehouse.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		warehousetest.Run(t, func(t *testing.T) warehouse.Warehouse {
			return openWarehouse(t, warehouse.Config{})
		})
	})
	t.Run("file", func(t *testing.T) {
		warehousetest.Run(t, func(t *testing.T) warehouse.Warehouse {
			// A directory that does not exist yet: Open creates it.
			return openWarehouse(t, warehouse.Config{Path: filepath.Join(t.TempDir(), "data", "wh.duckdb")})
		})
	})
	t.Run("parallel staging", func(t *testing.T) {
		// Every text file big enough to be staged in parallel parts (the 1 MiB line lands in the
		// middle of a part boundary's search).
		withMinSplit(t, 4<<10)
		warehousetest.Run(t, func(t *testing.T) warehouse.Warehouse {
			return openWarehouse(t, warehouse.Config{})
		})
	})
}

func withMinSplit(t *testing.T, n int64) {
	old := minSplit
	minSplit = n
	t.Cleanup(func() { minSplit = old })
}

// --- helper process ---

const (
	helperEnv     = "CDP_DUCKDB_TEST_HELPER" // mode
	helperPathEnv = "CDP_DUCKDB_TEST_PATH"   // warehouse file
	helperAuxEnv  = "CDP_DUCKDB_TEST_AUX"    // mode-specific
	helperHolder  = "cdp test holder"
)

// TestHelperProcess is not a test: the tests below run the test binary again with
// -test.run=^TestHelperProcess$ and helperEnv set, to hold a warehouse in a second process.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	if err := runHelper(mode, os.Getenv(helperPathEnv), os.Getenv(helperAuxEnv)); err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(3)
	}
	os.Exit(0)
}

func runHelper(mode, path, aux string) error {
	ctx := context.Background()
	switch mode {
	case "hold":
		// Commit a few rows, say so, and hold the warehouse until stdin closes.
		w, err := OpenDuckDB(ctx, warehouse.Config{Path: path, Holder: helperHolder})
		if err != nil {
			return err
		}
		if err := w.Exec(ctx, "CREATE TABLE kept (id BIGINT); INSERT INTO kept VALUES (1), (2), (3)"); err != nil {
			return err
		}
		fmt.Println("ready")
		_, _ = io.Copy(io.Discard, os.Stdin)
		if err := w.Close(); err != nil {
			return err
		}
		fmt.Println("closed")
		return nil
	case "probe":
		// Try to open and report what happened.
		w, err := OpenDuckDB(ctx, warehouse.Config{Path: path, Holder: "cdp probe"})
		if err != nil {
			var inUse *InUseError
			fmt.Printf("in use %v: %v\n", errors.As(err, &inUse), err)
			return nil
		}
		fmt.Println("opened")
		return w.Close()
	case "atomic":
		// Commit rows 1-3, then start a transaction that inserts and updates, writes the marker
		// file aux (so the parent knows those statements ran) and then runs for hours.
		w, err := OpenDuckDB(ctx, warehouse.Config{Path: path, Holder: helperHolder})
		if err != nil {
			return err
		}
		if err := w.Exec(ctx, "CREATE TABLE t (id BIGINT); INSERT INTO t VALUES (1), (2), (3)"); err != nil {
			return err
		}
		fmt.Println("committed")
		err = w.ExecAtomic(ctx,
			// Enough rows for DuckDB to write row groups to the file before commit.
			"INSERT INTO t SELECT range + 1000 FROM range(1000000)",
			"UPDATE t SET id = -id WHERE id <= 3",
			"CREATE TABLE made_in_tx AS SELECT 1 AS x",
			"COPY (SELECT 42 AS x) TO "+Dialect{}.QuoteString(aux)+" (FORMAT csv)",
			"INSERT INTO t SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE hash(a.range, b.range) = 0",
		)
		return fmt.Errorf("the endless transaction ended: %v", err)
	case "tz":
		// Report the session time zone and zone-dependent results on several connections of an
		// in-memory and a file warehouse, and on a plain DuckDB connection for comparison.
		raw, err := sql.Open("duckdb", "")
		if err != nil {
			return err
		}
		var zone string
		if err := raw.QueryRow("SELECT current_setting('TimeZone')").Scan(&zone); err != nil {
			return err
		}
		raw.Close()
		fmt.Printf("plain duckdb: %s\n", zone)
		for _, p := range []string{"", path} {
			w, err := OpenDuckDB(ctx, warehouse.Config{Path: p})
			if err != nil {
				return err
			}
			// Keep several results open at once so the pool makes several connections.
			var open []warehouse.Rows
			for range 4 {
				rows, err := w.Query(ctx, `SELECT current_setting('TimeZone'),
					CAST(TIMESTAMPTZ '2024-01-01 00:30:00+00' AS VARCHAR),
					CAST(CAST(TIMESTAMPTZ '2024-01-01 00:30:00+00' AS DATE) AS VARCHAR),
					CAST(date_trunc('day', TIMESTAMPTZ '2024-01-01 00:30:00+00') AS VARCHAR),
					TIMESTAMPTZ '2024-01-01 00:30:00+00'`)
				if err != nil {
					return err
				}
				if !rows.Next() {
					return fmt.Errorf("no row: %v", rows.Err())
				}
				var a, b, c, d string
				var ts time.Time
				if err := rows.Scan(&a, &b, &c, &d, &ts); err != nil {
					return err
				}
				fmt.Printf("%s|%s|%s|%s|%s\n", a, b, c, d, ts.Location())
				open = append(open, rows)
			}
			for _, r := range open {
				r.Close()
			}
			if err := w.Close(); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *strings.Builder
}

func startHelper(t *testing.T, mode, path, aux string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path, helperAuxEnv+"="+aux)
	cmd.Env = append(cmd.Env, env...)
	h := &helper{cmd: cmd, lines: make(chan string, 100), stderr: &strings.Builder{}}
	cmd.Stderr = h.stderr
	var err error
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return h
}

// next returns the helper's next line of output.
func (h *helper) next(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-h.lines:
		if !ok {
			t.Fatalf("helper exited early; stderr:\n%s", h.stderr)
		}
		return line
	case <-time.After(2 * time.Minute):
		t.Fatalf("no output from the helper in 2 minutes; stderr:\n%s", h.stderr)
	}
	return ""
}

func (h *helper) expect(t *testing.T, want string) {
	t.Helper()
	if got := h.next(t); got != want {
		t.Fatalf("helper said %q, want %q; stderr:\n%s", got, want, h.stderr)
	}
}

// kill9 kills the helper with SIGKILL and waits for it to be gone.
func (h *helper) kill9(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := h.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die of SIGKILL: %v", err)
	}
}

func inUseMessage(path string, pid int, holder string) string {
	return fmt.Sprintf("warehouse %s is in use by pid %d (%s); wait for it to finish or stop it, then retry", path, pid, holder)
}

func queryIDs(t *testing.T, w warehouse.Warehouse, query string) []int64 {
	t.Helper()
	rows, err := w.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// --- single writer ---

func TestSingleWriterOtherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	holder := startHelper(t, "hold", path, "")
	holder.expect(t, "ready")

	// Twice: a failed attempt must not disturb the holder's lock or its description.
	for range 2 {
		w, err := warehouse.Open(ctx, warehouse.Config{Type: "duckdb", Path: path, Holder: "cdp second"})
		if err == nil {
			w.Close()
			t.Fatal("opened a warehouse another process holds")
		}
		var inUse *InUseError
		if !errors.As(err, &inUse) {
			t.Fatalf("error is %T, want *InUseError: %v", err, err)
		}
		if want := inUseMessage(path, holder.cmd.Process.Pid, helperHolder); err.Error() != want {
			t.Fatalf("error:\n got %q\nwant %q", err, want)
		}
	}

	// The holder closes; now it opens, with the holder's committed data.
	holder.stdin.Close()
	holder.expect(t, "closed")
	if err := holder.cmd.Wait(); err != nil {
		t.Fatalf("holder: %v; stderr:\n%s", err, holder.stderr)
	}
	w := openWarehouse(t, warehouse.Config{Path: path, Holder: "cdp parent"})
	if diff := cmp.Diff([]int64{1, 2, 3}, queryIDs(t, w, "SELECT id FROM kept ORDER BY id")); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	// And now this process is the holder another process is told about.
	probe := startHelper(t, "probe", path, "")
	probe.expect(t, "in use true: "+inUseMessage(path, os.Getpid(), "cdp parent"))
}

func TestSingleWriterSameProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	first, err := OpenDuckDB(ctx, warehouse.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenDuckDB(ctx, warehouse.Config{Path: path})
	var inUse *InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("second open: %v, want *InUseError", err)
	}
	// No Holder: described as "cdp".
	if want := inUseMessage(path, os.Getpid(), "cdp"); err.Error() != want {
		t.Errorf("error:\n got %q\nwant %q", err, want)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := openWarehouse(t, warehouse.Config{Path: path})
	if err := second.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryWarehousesAreIndependent(t *testing.T) {
	ctx := context.Background()
	a := openWarehouse(t, warehouse.Config{})
	b := openWarehouse(t, warehouse.Config{Path: ":memory:"})
	if err := a.Exec(ctx, "CREATE TABLE only_in_a (x INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Columns(ctx, warehouse.Relation{Name: "only_in_a"}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("a table of one in-memory warehouse is visible in another: %v", err)
	}
}

func TestKilledHolderReleasesLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	holder := startHelper(t, "hold", path, "")
	holder.expect(t, "ready")
	holder.kill9(t)

	w := openWarehouse(t, warehouse.Config{Path: path})
	if diff := cmp.Diff([]int64{1, 2, 3}, queryIDs(t, w, "SELECT id FROM kept ORDER BY id")); diff != "" {
		t.Errorf("rows committed before the kill (-want +got):\n%s", diff)
	}
	// The file is intact: it checkpoints, takes writes, and reopens.
	ctx := context.Background()
	if err := w.Exec(ctx, "CHECKPOINT; INSERT INTO kept VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openWarehouse(t, warehouse.Config{Path: path})
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, queryIDs(t, w, "SELECT id FROM kept ORDER BY id")); diff != "" {
		t.Errorf("rows after reopening (-want +got):\n%s", diff)
	}
}

func TestExecAtomicKilledMidway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wh.duckdb")
	marker := filepath.Join(dir, "in-transaction.csv")
	h := startHelper(t, "atomic", path, marker)
	h.expect(t, "committed")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transaction never reached its marker; stderr:\n%s", h.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.kill9(t)

	w := openWarehouse(t, warehouse.Config{Path: path})
	if diff := cmp.Diff([]int64{1, 2, 3}, queryIDs(t, w, "SELECT id FROM t ORDER BY id")); diff != "" {
		t.Errorf("after killing a transaction (-want only the committed rows +got):\n%s", diff)
	}
	ctx := context.Background()
	if _, err := w.Columns(ctx, warehouse.Relation{Name: "made_in_tx"}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("table created in the killed transaction: %v, want ErrNotFound", err)
	}
	// The file is intact: it checkpoints, takes writes, and reopens.
	if err := w.Exec(ctx, "CHECKPOINT; INSERT INTO t VALUES (4)"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openWarehouse(t, warehouse.Config{Path: path})
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, queryIDs(t, w, "SELECT id FROM t ORDER BY id")); diff != "" {
		t.Errorf("after reopening (-want +got):\n%s", diff)
	}
}

// --- time zone ---

func TestTimeZoneIsUTC(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"} {
		t.Run(zone, func(t *testing.T) {
			h := startHelper(t, "tz", filepath.Join(t.TempDir(), "wh.duckdb"), "", "TZ="+zone)
			// For the record: what DuckDB does without cdp's setting.
			t.Logf("%s", h.next(t))
			want := "UTC|2024-01-01 00:30:00+00|2024-01-01|2024-01-01 00:00:00+00|UTC"
			for i := range 8 { // 4 connections each, memory then file
				if got := h.next(t); got != want {
					t.Errorf("connection %d with TZ=%s:\n got %s\nwant %s", i, zone, got, want)
				}
			}
			if err := h.cmd.Wait(); err != nil {
				t.Fatalf("helper: %v; stderr:\n%s", err, h.stderr)
			}
		})
	}
}

// Open's context bounds Open only: connections the pool makes later must not inherit it.
func TestOpenContextIsNotKept(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := OpenDuckDB(ctx, warehouse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cancel()
	var open []warehouse.Rows
	defer func() {
		for _, r := range open {
			r.Close()
		}
	}()
	for i := range 4 {
		rows, err := w.Query(context.Background(), "SELECT current_setting('TimeZone')")
		if err != nil {
			t.Fatalf("query %d after Open's context was cancelled: %v", i, err)
		}
		open = append(open, rows)
	}
}

// --- staging ---

func TestStagingStaysOutOfTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "wh.duckdb")
	data := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(data, []byte("{}\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := OpenDuckDB(ctx, warehouse.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Load(ctx, warehouse.LoadRequest{Path: data, Format: warehouse.FormatLines, Name: "stage_x"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Table != `cdp_stage.main."stage_x"` {
		t.Errorf("Table = %s", res.Table)
	}
	var n int64
	if err := w.DB().QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d tables in the warehouse file after staging, want 0", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2 := openWarehouse(t, warehouse.Config{Path: path})
	if _, err := w2.Query(ctx, "SELECT * FROM "+res.Table); err == nil {
		t.Errorf("staged table survived closing the warehouse")
	}
}

func TestErrorType(t *testing.T) {
	w := openWarehouse(t, warehouse.Config{})
	err := w.Exec(context.Background(), "SELECT * FROM nope")
	var de *Error
	if !errors.As(err, &de) {
		t.Fatalf("error is %T, want *Error", err)
	}
	if !strings.HasPrefix(de.Error(), "Catalog Error: Table with name nope does not exist") {
		t.Errorf("message = %q", de.Error())
	}
}

// Progress is a callback for a progress bar: even when a file is staged in parallel parts it is
// called by one goroutine at a time with a running total that never goes backwards.
func TestParallelStagingProgress(t *testing.T) {
	withMinSplit(t, 64<<10)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "{\"n\":%d}\n", i)
	}
	data := []byte(b.String())
	path := filepath.Join(t.TempDir(), "big.ndjson")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		inFlight   atomic.Int32
		overlapped atomic.Bool
		mu         sync.Mutex
		seen       []int64
		first      sync.Once
	)
	progress := func(n int64) {
		if inFlight.Add(1) > 1 {
			overlapped.Store(true)
		}
		defer inFlight.Add(-1)
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
		// Hold the first call open: a concurrent call would overlap it.
		first.Do(func() { time.Sleep(300 * time.Millisecond) })
	}
	w := openWarehouse(t, warehouse.Config{})
	res, err := w.Load(context.Background(), warehouse.LoadRequest{Path: path, Format: warehouse.FormatLines, Name: "p", Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 100_000 {
		t.Errorf("Rows = %d, want 100000", res.Rows)
	}
	if overlapped.Load() {
		t.Errorf("Progress was called concurrently")
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("Progress went backwards: %v", seen)
			break
		}
	}
	if len(seen) == 0 || seen[len(seen)-1] != int64(len(data)) {
		t.Errorf("Progress calls %v; want the last to be the file size %d", seen, len(data))
	}
}

// New warehouse files are written in a storage version that compresses a document column with
// zstd; in DuckDB's default version for new files the column would be stored uncompressed.
func TestNewFileCompressesDocuments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	w := openWarehouse(t, warehouse.Config{Path: path})
	stmts := []string{
		"CREATE TABLE docs (id INTEGER, payload " + Dialect{}.DocumentColumn() + ")",
		`INSERT INTO docs SELECT i, '{"type":"track","event":"Order Completed","properties":{"revenue":' || i || ',"currency":"EUR"},"userId":"u' || i || '"}' FROM range(100000) t(i)`,
		"CHECKPOINT",
	}
	for _, s := range stmts {
		if err := w.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := w.Query(ctx, "SELECT DISTINCT compression FROM pragma_storage_info('docs') WHERE column_name = 'payload' AND segment_type = 'VARCHAR'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	if diff := cmp.Diff([]string{"ZSTD"}, got); diff != "" {
		t.Errorf("compression of the payload column (-want +got):\n%s", diff)
	}
}

// A target's memory_limit applies from the open, and a sync keeps it instead of capping memory
// itself; without one, the sync's cap applies while it runs and the default comes back after.
func TestMemoryLimit(t *testing.T) {
	ctx := context.Background()
	setting := func(w *Warehouse) string {
		t.Helper()
		var v string
		if err := w.DB().QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	capped := func(w *Warehouse) (during, after string) {
		t.Helper()
		restore, err := w.CapMemory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		during = setting(w)
		if err := restore(ctx); err != nil {
			t.Fatal(err)
		}
		return during, setting(w)
	}

	own := openWarehouse(t, warehouse.Config{MemoryLimit: "1GB"}).(*Warehouse)
	if got := setting(own); got != "953.6 MiB" {
		t.Errorf("memory_limit after open = %q, want 1GB (953.6 MiB)", got)
	}
	if during, after := capped(own); during != "953.6 MiB" || after != "953.6 MiB" {
		t.Errorf("with the target's limit, a sync ran with %q and left %q; want the target's throughout", during, after)
	}

	def := openWarehouse(t, warehouse.Config{}).(*Warehouse)
	before := setting(def)
	if during, after := capped(def); during != "152.5 MiB" || after != before {
		t.Errorf("a sync ran with %q and left %q; want 160MB (152.5 MiB), then %q", during, after, before)
	}

	if _, err := OpenDuckDB(ctx, warehouse.Config{MemoryLimit: "lots"}); err == nil || !strings.Contains(err.Error(), `memory_limit "lots"`) {
		t.Errorf("a bad memory_limit: %v", err)
	}
}
