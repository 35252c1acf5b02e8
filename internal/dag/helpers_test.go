package dag_test

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/cdp-dev/cdp/internal/dag"
)

// build returns a graph from "parent>child" edges and bare node names, separated by spaces.
func build(spec string) *dag.Graph {
	g := dag.New()
	for _, f := range strings.Fields(spec) {
		if p, c, ok := strings.Cut(f, ">"); ok {
			g.AddEdge(p, c)
		} else {
			g.AddNode(f)
		}
	}
	return g
}

// resolver resolves plain names exactly or as path.Match patterns, and "method:value" from a
// fixed table.
func resolver(g *dag.Graph, table map[string][]string) dag.Resolver {
	return func(method, value string) ([]string, error) {
		if method == "" {
			if g.Has(value) {
				return []string{value}, nil
			}
			var out []string
			for _, id := range g.Nodes() {
				if ok, _ := path.Match(value, id); ok {
					out = append(out, id)
				}
			}
			return out, nil
		}
		ids, ok := table[method+":"+value]
		if !ok {
			if _, known := knownMethods[method]; !known {
				return nil, fmt.Errorf("unknown method %q", method)
			}
		}
		return ids, nil
	}
}

var knownMethods = map[string]bool{"tag": true, "path": true, "config.materialized": true, "source": true}

// project is a generated dbt-like project graph.
type project struct {
	g      *dag.Graph
	tags   map[string][]string // "tag:x" -> IDs
	marts  []string
	inters []string
	stages []string
}

// genProject returns a DAG of n nodes shaped like a large dbt project: 5% sources, 30% staging
// models reading one or two sources, 40% intermediate models joining 2-4 staging or earlier
// intermediate models, 25% marts joining 3-8 intermediate models or earlier marts. Parents are
// biased towards recent nodes of the layer below, as real projects group by domain. Nodes are
// added in random order.
func genProject(n int, seed uint64) *project {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := &project{tags: map[string][]string{}}
	nSrc, nStg, nInt := n*5/100, n*30/100, n*40/100
	nMart := n - nSrc - nStg - nInt
	var srcs []string
	for i := range nSrc {
		srcs = append(srcs, fmt.Sprintf("source.raw.t%05d", i))
	}
	for i := range nStg {
		p.stages = append(p.stages, fmt.Sprintf("model.stg_%05d", i))
	}
	for i := range nInt {
		p.inters = append(p.inters, fmt.Sprintf("model.int_%05d", i))
	}
	for i := range nMart {
		kind := "fct"
		if i%3 == 0 {
			kind = "dim"
		}
		p.marts = append(p.marts, fmt.Sprintf("model.%s_%05d", kind, i))
	}
	type edge struct{ p, c string }
	var edges []edge
	// near picks a node of pool close to (and mostly before) position i scaled to pool.
	near := func(pool []string, i, of int) string {
		j := i*len(pool)/of - int(r.ExpFloat64()*50) + 10
		return pool[min(max(j, 0), len(pool)-1)]
	}
	for i, s := range p.stages {
		edges = append(edges, edge{srcs[i*len(srcs)/len(p.stages)], s})
		if r.IntN(10) == 0 {
			edges = append(edges, edge{srcs[r.IntN(len(srcs))], s})
		}
		if r.IntN(10) == 0 {
			p.tags["tag:pii"] = append(p.tags["tag:pii"], s)
		}
	}
	for i, m := range p.inters {
		for range 2 + r.IntN(3) {
			if i > 10 && r.IntN(3) == 0 {
				edges = append(edges, edge{p.inters[i-1-r.IntN(min(i, 50))], m})
			} else {
				edges = append(edges, edge{near(p.stages, i, len(p.inters)), m})
			}
		}
	}
	for i, m := range p.marts {
		for range 3 + r.IntN(6) {
			if i > 10 && r.IntN(4) == 0 {
				edges = append(edges, edge{p.marts[i-1-r.IntN(min(i, 100))], m})
			} else {
				edges = append(edges, edge{near(p.inters, i, len(p.marts)), m})
			}
		}
		if r.IntN(5) == 0 {
			p.tags["tag:nightly"] = append(p.tags["tag:nightly"], m)
		}
	}
	r.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
	p.g = dag.New()
	for _, e := range edges {
		p.g.AddEdge(e.p, e.c)
	}
	for _, s := range srcs {
		p.g.AddNode(s)
	}
	return p
}
