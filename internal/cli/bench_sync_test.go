package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

// TestSyncPeakRSS measures the peak resident memory of whole `cdp sync run` processes on a
// model of CDP_BENCH_SYNC_ROWS rows sent to a webhook served by this test, the figure the
// issue's goal is about (docs/benchmarks.md, "Syncs"):
//
//	make bench-sync    # CDP_BENCH_SYNC_ROWS=5000000, fails at or above 300 MB
//
// cdp runs as a child process so that its rusage holds only what a real run costs: DuckDB's
// buffers, the Go heap, the HTTP client. Three runs: the first sends every row as an add; the
// second ~5% changes, ~0.5% removes and ~0.5% adds; the third nothing. CDP_BENCH_SYNC_MAX_MB
// sets the bound (default 300).
func TestSyncPeakRSS(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("CDP_BENCH_SYNC_ROWS"))
	if n <= 0 {
		t.Skip("set CDP_BENCH_SYNC_ROWS (e.g. 5000000) to measure a sync's peak RSS; see make bench-sync")
	}
	maxMB := 300.0
	if v, err := strconv.ParseFloat(os.Getenv("CDP_BENCH_SYNC_MAX_MB"), 64); err == nil && v > 0 {
		maxMB = v
	}
	dir := t.TempDir()
	bin := buildCdp(t, dir)

	var rows atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Rows []json.RawMessage `json:"rows"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rows.Add(int64(len(body.Rows)))
	}))
	defer srv.Close()

	proj := filepath.Join(dir, "proj")
	target := "    type: duckdb\n    path: .cdp/warehouse.duckdb\n"
	writeFiles(t, proj, map[string]string{
		"cdp.yaml": "name: bench\ntarget: dev\ntargets:\n  dev:\n" + target,
		"syncs/bench.yml": `syncs:
  - name: bench
    model: audience
    primary_key: profile_id
    mode: mirror
    consent: marketing
    mapping:
      email: email
      last_order_at: last_order_at
      orders: orders
      plan: plan
      spend: total_spend
      source: {const: cdp}
    destination:
      type: webhook
      url: ${BENCH_WEBHOOK_URL}
      secret: ${BENCH_WEBHOOK_SECRET}
      batch_size: 1000
      concurrency: 4
`,
	})

	// The model has the shape of internal/sync's benchModel: 2% of rows without consent.
	sql(t, proj, fmt.Sprintf(`CREATE TABLE main.audience AS
		SELECT 'p' || lpad(CAST(i AS VARCHAR), 8, '0') AS profile_id, 'user' || i || '@example.com' AS email,
			(i %% 1000) * 1.25 AS total_spend, i %% 17 AS orders, CASE WHEN i %% 3 = 0 THEN 'pro' ELSE 'free' END AS plan,
			TIMESTAMPTZ '2024-01-01' + INTERVAL (i) SECOND AS last_order_at, i %% 50 <> 0 AS consent_marketing
		FROM range(%d) t(i)`, n))

	type run struct {
		name                    string
		added, changed, removed int64
		seconds                 float64
		peakMB                  float64
	}
	var runs []run
	do := func(name string) {
		t.Helper()
		rows.Store(0)
		cmd := exec.Command(bin, "sync", "run", "bench", "--json")
		cmd.Dir = proj
		cmd.Env = append(os.Environ(), "HOME="+dir, "BENCH_WEBHOOK_URL="+srv.URL, "BENCH_WEBHOOK_SECRET=bench")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start).Seconds()
		if err != nil {
			t.Fatalf("cdp sync run (%s): %v\nstdout:\n%s\nstderr:\n%s", name, err, out.String(), errb.String())
		}
		var res []struct {
			Added, Changed, Removed int64
			Status                  string
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res) != 1 || res[0].Status != "ok" {
			t.Fatalf("cdp sync run (%s): %v\n%s", name, err, out.String())
		}
		r := run{name: name, added: res[0].Added, changed: res[0].Changed, removed: res[0].Removed, seconds: wall,
			peakMB: float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024}
		if got, want := rows.Load(), r.added+r.changed+r.removed; got != want {
			t.Errorf("%s: the webhook received %d rows, the run reports %d", name, got, want)
		}
		runs = append(runs, r)
	}

	do("first (all adds)")
	sql(t, proj, `UPDATE main.audience SET total_spend = total_spend + 1 WHERE hash(profile_id) % 20 = 0`)
	sql(t, proj, `DELETE FROM main.audience WHERE hash(profile_id) % 200 = 1`)
	sql(t, proj, fmt.Sprintf(`INSERT INTO main.audience
		SELECT 'q' || lpad(CAST(i AS VARCHAR), 8, '0'), 'new' || i || '@example.com', 10.0, 1, 'free', TIMESTAMPTZ '2025-01-01', TRUE
		FROM range(%d) t(i)`, n/200))
	do("second (5% changes, 0.5% removes, 0.5% adds)")
	do("third (no changes)")

	t.Logf("cdp sync run of a %d-row model to a local webhook, GOMAXPROCS %d:", n, runtime.GOMAXPROCS(0))
	t.Logf("%-48s %10s %10s %10s %9s %10s %12s", "run", "added", "changed", "removed", "wall s", "rows/s", "peak RSS MB")
	for _, r := range runs {
		sent := r.added + r.changed + r.removed
		t.Logf("%-48s %10d %10d %10d %9.1f %10.0f %12.0f", r.name, r.added, r.changed, r.removed, r.seconds, float64(sent)/r.seconds, r.peakMB)
	}
	for _, r := range runs {
		if r.peakMB >= maxMB {
			t.Errorf("%s: peak RSS %.0f MB, want < %.0f MB", r.name, r.peakMB, maxMB)
		}
	}
}

// buildCdp builds the cdp binary into dir: the measured process must be cdp itself, not a test
// binary carrying the test's own allocations.
func buildCdp(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "cdp")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go is not on $PATH: %v", err)
	}
	cmd := exec.Command(gobin, "build", "-o", bin, "github.com/cdp-dev/cdp/cmd/cdp")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sql changes the project's warehouse between runs, from this process, with the warehouse lock
// taken and released like any cdp command.
func sql(t *testing.T, proj, query string) {
	t.Helper()
	ctx := context.Background()
	w, err := duckdb.OpenDuckDB(ctx, warehouse.Config{Type: "duckdb", Path: filepath.Join(proj, ".cdp", "warehouse.duckdb"), Holder: "TestSyncPeakRSS"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Exec(ctx, query); err != nil {
		t.Fatalf("%v\n%s", err, strings.TrimSpace(query))
	}
}
