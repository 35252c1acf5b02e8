package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
	"github.com/cdp-dev/cdp/internal/pgtest"
)

// BenchmarkWrite sends CDP_BENCH_ROWS rows (100,000 by default) of six fields to a local
// server the way the engine does: batches of batch_size, concurrency of them at once. "add" fills
// an empty table; "change" then updates every row; "remove" deletes them all.
func BenchmarkWrite(b *testing.B) {
	n := 100_000
	if s := os.Getenv("CDP_BENCH_ROWS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	const batchSize, concurrency = DefaultBatchSize, DefaultConcurrency
	rows := func(a destination.Action, version int) []destination.Row {
		out := make([]destination.Row, n)
		for i := range out {
			key := fmt.Sprintf("profile-%07d", i)
			out[i] = destination.Row{Key: key, Action: a, Fields: destinationtest.DefaultFields(key, i+version)}
		}
		return out
	}
	send := func(b *testing.B, d *Dest, mode string, all []destination.Row) {
		work := make(chan []destination.Row)
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				for batch := range work {
					res, err := d.Write(context.Background(), destination.Batch{Sync: "bench", Mode: mode, Rows: batch})
					if err != nil {
						b.Error(err)
						continue
					}
					for _, r := range res.Rows {
						if r.Outcome != destination.OK {
							b.Errorf("%s: %s", r.Outcome, r.Reason)
							break
						}
					}
				}
			})
		}
		for i := 0; i < len(all); i += batchSize {
			work <- all[i:min(i+batchSize, len(all))]
		}
		close(work)
		wg.Wait()
	}
	adds, changes, removes := rows(destination.Add, 0), rows(destination.Change, 1), rows(destination.Remove, 1)
	for _, step := range []struct {
		name string
		rows []destination.Row
	}{{"add", adds}, {"change", changes}, {"remove", removes}} {
		b.Run(step.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				url := pgtest.NewDB(b)
				d, err := New(map[string]any{"url": url, "table": "bench", "batch_size": batchSize, "concurrency": concurrency})
				if err != nil {
					b.Fatal(err)
				}
				if step.name != "add" {
					send(b, d, "mirror", adds)
				}
				b.StartTimer()
				send(b, d, "mirror", step.rows)
				b.StopTimer()
				d.Close(context.Background())
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
