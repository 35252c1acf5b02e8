package dag_test

import (
	"context"
	"testing"

	"github.com/cdp-dev/cdp/internal/dag"
)

// The benchmarks run on a generated 10,000-node project (see genProject: 1 to 8 parents per
// model, layered like a real dbt project). Goal: Sort and Select well under 100 ms.

func BenchmarkBuild(b *testing.B) {
	p := genProject(10_000, 1)
	type edge struct{ p, c string }
	var edges []edge
	for _, n := range p.g.Nodes() {
		for _, c := range p.g.Children(n) {
			edges = append(edges, edge{n, c})
		}
	}
	b.ReportMetric(float64(len(edges)), "edges")
	for b.Loop() {
		g := dag.New()
		for _, e := range edges {
			g.AddEdge(e.p, e.c)
		}
	}
}

func BenchmarkSort(b *testing.B) {
	p := genProject(10_000, 1)
	for b.Loop() {
		if _, err := p.g.Sort(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycle(b *testing.B) {
	p := genProject(10_000, 1)
	for b.Loop() {
		if c := p.g.Cycle(); c != nil {
			b.Fatal(c)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	p := genProject(10_000, 1)
	resolve := resolver(p.g, p.tags)
	include := []string{
		"+" + p.marts[100] + "+",
		"tag:nightly,+" + p.marts[2000],
		"@" + p.inters[300],
		"2+" + p.marts[50] + "+1",
		"model.stg_001*",
	}
	exclude := []string{"tag:pii"}
	var n int
	for b.Loop() {
		sel, err := p.g.Select(include, exclude, resolve)
		if err != nil {
			b.Fatal(err)
		}
		n = len(sel)
	}
	b.ReportMetric(float64(n), "selected")
}

func BenchmarkSelectAll(b *testing.B) {
	p := genProject(10_000, 1)
	for b.Loop() {
		if _, err := p.g.Select(nil, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSubgraph keeps every other node: the worst realistic case for transitive edges.
func BenchmarkSubgraph(b *testing.B) {
	p := genProject(10_000, 1)
	nodes := p.g.Nodes()
	var keep []string
	for i, n := range nodes {
		if i%2 == 0 {
			keep = append(keep, n)
		}
	}
	for b.Loop() {
		p.g.Subgraph(keep)
	}
}

// BenchmarkWalk measures the walk's own overhead: fn does nothing.
func BenchmarkWalk(b *testing.B) {
	p := genProject(10_000, 1)
	order, err := p.g.Sort()
	if err != nil {
		b.Fatal(err)
	}
	noop := func(context.Context, string) error { return nil }
	for b.Loop() {
		dag.Walk(context.Background(), p.g, order, 8, noop, nil)
	}
}
