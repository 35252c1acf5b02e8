package identity

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

// BenchmarkIdentity resolves the Segment events of CDP_BENCH_PERSONS generated persons (default
// 20,000; about 15 events each) with the default rules, through the identity materialization.
// It reports the events resolved per second and the rounds; then, on the same links, it times
// the connected components alone against one-hop-per-round label propagation.
func BenchmarkIdentity(b *testing.B) {
	persons := 20_000
	if s := os.Getenv("CDP_BENCH_PERSONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CDP_BENCH_PERSONS=%q: want a number of persons", s)
		}
		persons = n
	}
	ctx := context.Background()
	var wh warehouse.Warehouse
	var events int64
	if path := os.Getenv("CDP_BENCH_DB"); path != "" {
		// A DuckDB file prepared earlier with the observations in main.obs (segmentObservations
		// over generated events), to skip generating and loading them.
		var err error
		if wh, err = duckdb.Open(ctx, warehouse.Config{Type: "duckdb", Path: path}); err != nil {
			b.Fatal(err)
		}
		defer wh.Close()
		events = queryInt(b, wh, "SELECT COUNT(*) FROM main.obs")
	} else {
		wh = openWH(b)
		start := time.Now()
		sum := loadGenerated(b, wh, persons)
		mustExec(b, wh, "CREATE TABLE main.obs AS "+segmentObservations)
		mustExec(b, wh, "DROP TABLE main.events")
		events = int64(sum.Events)
		b.Logf("%d persons, %d events generated and loaded in %s", persons, sum.Events, time.Since(start).Round(time.Millisecond))
	}

	n := identityModel("idm", "select * from main.obs", segmentRules())
	var twh warehouse.Warehouse = wh
	if path := os.Getenv("CDP_BENCH_TRACE"); path != "" {
		f, err := os.Create(path + ".build")
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		twh = &tracingWH{Warehouse: wh, w: f}
	}
	for b.Loop() {
		build(b, twh, n)
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	m := queryStrings(b, wh, "SELECT rounds, limit_rounds, profiles, conflicted_identifiers, round_log FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1")
	b.Logf("identity: %.2fs per build, %.0f events/s; rounds|limit rounds|profiles|conflicted|log: %s", secs, float64(events)/secs, m[0])
	b.ReportMetric(float64(events)/secs, "events/s")
	b.ReportMetric(float64(queryInt(b, wh, "SELECT rounds FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1")), "rounds")

	// Connected components against label propagation, on the links of the same graph.
	rules, err := ParseRules(segmentRules())
	if err != nil {
		b.Fatal(err)
	}
	if err := rules.Resolve([]string{"message_id", "timestamp", "anonymous_id", "user_id", "previous_id", "email", "phone", "device_id"}); err != nil {
		b.Fatal(err)
	}
	r := newResolver(wh, rules, "bench_", nil)
	defer r.cleanup(ctx)
	if path := os.Getenv("CDP_BENCH_TRACE"); path != "" {
		// Every statement of the resolution with its duration, to a file.
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		r.trace = func(d time.Duration, sql string) {
			fmt.Fprintf(f, "%7.3fs %s\n", d.Seconds(), strings.Join(strings.Fields(sql), " "))
		}
	}
	t0 := time.Now()
	if err := r.run(ctx, "(select * from main.obs)", outputs{Map: "main.b_map", Edges: "main.b_edges", Dropped: "main.b_dropped", Events: "main.b_events", RunID: "bench"}); err != nil {
		b.Fatal(err)
	}
	b.Logf("resolution alone (no commit, no change detection): %.2fs", time.Since(t0).Seconds())
	edges := r.tbl("edges")
	links := queryInt(b, wh, "SELECT COUNT(*) FROM "+edges)
	t0 = time.Now()
	rounds, err := r.components(ctx, "bench", edges, r.tbl("bench_cc"))
	if err != nil {
		b.Fatal(err)
	}
	ccSecs := time.Since(t0).Seconds()
	t0 = time.Now()
	lpRounds, err := r.propagate(ctx, edges, r.tbl("bench_lp"), 100_000)
	if err != nil {
		b.Fatal(err)
	}
	lpSecs := time.Since(t0).Seconds()
	if diff := queryInt(b, wh, "SELECT COUNT(*) FROM "+r.tbl("bench_cc")+" c JOIN "+r.tbl("bench_lp")+" l ON l.node = c.node WHERE l.label <> c.label"); diff != 0 {
		b.Errorf("components and label propagation disagree on %d nodes", diff)
	}
	b.Logf("on %d links: connected components %d rounds in %.2fs; label propagation %d rounds in %.2fs", links, rounds, ccSecs, lpRounds, lpSecs)
	b.ReportMetric(float64(rounds), "cc-rounds")
	b.ReportMetric(ccSecs, "cc-s")
	b.ReportMetric(float64(lpRounds), "lp-rounds")
	b.ReportMetric(lpSecs, "lp-s")
}

// tracingWH writes how long every statement took.
type tracingWH struct {
	warehouse.Warehouse
	w *os.File
}

func (t *tracingWH) Exec(ctx context.Context, sql string, args ...any) error {
	start := time.Now()
	err := t.Warehouse.Exec(ctx, sql, args...)
	fmt.Fprintf(t.w, "%7.3fs %s\n", time.Since(start).Seconds(), strings.Join(strings.Fields(sql), " "))
	return err
}

func (t *tracingWH) ExecAtomic(ctx context.Context, stmts ...string) error {
	start := time.Now()
	err := t.Warehouse.ExecAtomic(ctx, stmts...)
	fmt.Fprintf(t.w, "%7.3fs ATOMIC %s\n", time.Since(start).Seconds(), strings.Join(strings.Fields(strings.Join(stmts, "; ")), " "))
	return err
}

func (t *tracingWH) Query(ctx context.Context, sql string, args ...any) (warehouse.Rows, error) {
	start := time.Now()
	rows, err := t.Warehouse.Query(ctx, sql, args...)
	fmt.Fprintf(t.w, "%7.3fs QUERY %s\n", time.Since(start).Seconds(), strings.Join(strings.Fields(sql), " "))
	return rows, err
}
