package load_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/generate"
	"github.com/cdp-dev/cdp/internal/load"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

// BenchmarkLoad compares, in the same run and on the same generated files, cdp's validated,
// deduplicated load with DuckDB's own read_json into a table (the fastest this machine can go).
// Size with CDP_BENCH_EVENTS (default 100,000); `make bench-load` uses 1,000,000.
func BenchmarkLoad(b *testing.B) {
	events := 100_000
	if s := os.Getenv("CDP_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("CDP_BENCH_EVENTS=%q: %v", s, err)
		}
		events = n
	}
	ctx := context.Background()
	dataDir := b.TempDir()
	// ~15 events per person; files of 250k events, like a day of Segment's S3 dumps.
	sum, err := generate.Events(ctx, generate.Options{
		Persons: max(events/15, 1), Seed: 1, Out: dataDir, FileEvents: 250_000, BadRate: 0.001, DuplicateRate: 0.002,
	})
	if err != nil {
		b.Fatal(err)
	}
	proj, err := config.Load("../..")
	if err != nil {
		b.Fatal(err)
	}
	src, err := proj.Source("events")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events in %d files", sum.Events, len(sum.Files))

	// CPU time is reported beside wall time: on a machine shared with other work, wall time (and
	// most of all read_json's, which needs every core) varies from run to run far more than the
	// CPU each side needs.
	var baseline, cdp, baselineCPU, cdpCPU time.Duration
	for i := 0; i < b.N; i++ {
		c := processCPU()
		baseline += timeReadJSON(b, sum.Files)
		baselineCPU += processCPU() - c
		c = processCPU()
		cdp += timeCDPLoad(b, src, sum.Files)
		cdpCPU += processCPU() - c
	}
	n := float64(b.N)
	lines := float64(sum.Events + sum.Bad + sum.Duplicates)
	b.ReportMetric(lines/(baseline.Seconds()/n), "read_json_rows/s")
	b.ReportMetric(lines/(cdp.Seconds()/n), "cdp_rows/s")
	b.ReportMetric(baseline.Seconds()/cdp.Seconds(), "cdp/read_json")
	if cdpCPU > 0 {
		b.ReportMetric(baselineCPU.Seconds()/n, "read_json_cpu_s")
		b.ReportMetric(cdpCPU.Seconds()/n, "cdp_cpu_s")
		b.ReportMetric(baselineCPU.Seconds()/cdpCPU.Seconds(), "cdp/read_json_cpu")
	}
}

func timeReadJSON(b *testing.B, files []string) time.Duration {
	ctx := context.Background()
	wh, err := duckdb.OpenDuckDB(ctx, warehouse.Config{Path: filepath.Join(b.TempDir(), "base.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer wh.Close()
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = "'" + f + "'"
	}
	start := time.Now()
	// ignore_errors: read_json would otherwise stop at the first deliberately bad line.
	q := fmt.Sprintf("CREATE TABLE events AS SELECT * FROM read_json([%s], format = 'newline_delimited', ignore_errors = true)", strings.Join(quoted, ", "))
	if _, err := wh.DB().ExecContext(ctx, q); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func timeCDPLoad(b *testing.B, src *config.Source, files []string) time.Duration {
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, warehouse.Config{Path: filepath.Join(b.TempDir(), "cdp.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	defer wh.Close()
	start := time.Now()
	sum, err := load.Run(ctx, wh, load.Options{Source: src, Files: files})
	if err != nil {
		b.Fatal(err)
	}
	d := time.Since(start)
	b.Logf("cdp: loaded %d, duplicates %d, quarantined %d in %.2fs", sum.Loaded, sum.Duplicates, sum.Quarantined, d.Seconds())
	return d
}
