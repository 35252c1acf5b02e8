package run

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/compile"
)

// project100 is 100 table models in 10 layers of 10, each reading the layer above (the first
// reads a source).
func project100() []*compile.Node {
	var nodes []*compile.Node
	for layer := range 10 {
		for i := range 10 {
			name := fmt.Sprintf("m%d_%d", layer, i)
			if layer == 0 {
				nodes = append(nodes, model(name, "table", "select x from raw.a", "source:raw.a"))
				continue
			}
			p := fmt.Sprintf("m%d_%d", layer-1, i)
			nodes = append(nodes, model(name, "table", "select x + 1 as x from main."+p, "model."+p))
		}
	}
	return nodes
}

// BenchmarkNoopRun100 is a run of 100 models where nothing changed: every one is skipped.
// Goal: at most 200 ms.
func BenchmarkNoopRun100(b *testing.B) {
	wh := openWH(b)
	source(b, wh, "raw", "a", "select range as x from range(10)")
	nodes, byID := projectOf(project100()...)
	r := &Runner{WH: wh, Nodes: byID}
	ctx := context.Background()
	if sum, err := r.Run(ctx, nodes, nil); err != nil || sum.Counts.Success != 100 {
		b.Fatalf("first run: %v %+v", err, sum.Counts)
	}
	for b.Loop() {
		sum, err := r.Run(ctx, nodes, nil)
		if err != nil || sum.Counts.SkippedUnchanged != 100 {
			b.Fatalf("%v %+v", err, sum.Counts)
		}
	}
}

// BenchmarkModelOverhead rebuilds 20 trivial table models one at a time and reports what cdp
// adds per model on top of the model's own SQL (a CREATE TABLE AS of the same SELECT, timed
// alone): overhead-ms/model. Goal: at most 10 ms.
func BenchmarkModelOverhead(b *testing.B) {
	const models = 20
	wh := openWH(b)
	var list []*compile.Node
	for i := range models {
		list = append(list, model(fmt.Sprintf("t%d", i), "table", "select 1 as x"))
	}
	nodes, byID := projectOf(list...)
	for _, n := range nodes {
		n.DependsOn = nil
	}
	r := &Runner{WH: wh, Nodes: byID, Threads: 1, FullRefresh: true}
	ctx := context.Background()
	if _, err := r.Run(ctx, nodes, nil); err != nil {
		b.Fatal(err)
	}
	var runTime, sqlTime time.Duration
	for b.Loop() {
		start := time.Now()
		sum, err := r.Run(ctx, nodes, nil)
		if err != nil || sum.Counts.Success != models {
			b.Fatalf("%v %+v", err, sum.Counts)
		}
		runTime += time.Since(start)
		start = time.Now()
		for i := range models {
			if err := wh.Exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE main.plain%d AS select 1 as x", i)); err != nil {
				b.Fatal(err)
			}
		}
		sqlTime += time.Since(start)
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / models / 1e6 }
	b.ReportMetric(per(runTime), "run-ms/model")
	b.ReportMetric(per(sqlTime), "sql-ms/model")
	b.ReportMetric(per(runTime-sqlTime), "overhead-ms/model")
}
