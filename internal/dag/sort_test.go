package dag_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/dag"
)

func TestCycle(t *testing.T) {
	tests := []struct {
		name  string
		graph string
		want  []string
	}{
		{"empty", "", nil},
		{"acyclic", "a>b b>c a>c d", nil},
		{"self-loop", "x>y y>y", []string{"y", "y"}},
		{"two nodes", "a>b b>a", []string{"a", "b", "a"}},
		{"long", "m>n n>o o>p p>q q>m root>m", []string{"m", "n", "o", "p", "q", "m"}},
		// Starts at the smallest ID on any cycle, even if found later.
		{"smallest start", "z>y y>z c>d d>b b>c", []string{"b", "c", "d", "b"}},
		{"not on cycle not a start", "a>b b>c c>b", []string{"b", "c", "b"}},
		// Shortest way back, preferring smaller IDs.
		{"shortest", "a>z z>y y>a a>c c>a a>b b>a", []string{"a", "b", "a"}},
		{"downstream of cycle", "b>c c>b c>d d>e", []string{"b", "c", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(tt.graph)
			if diff := cmp.Diff(tt.want, g.Cycle()); diff != "" {
				t.Errorf("Cycle (-want +got)\n%s", diff)
			}
			order, err := g.Sort()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Sort: %v", err)
				}
				return
			}
			var ce *dag.CycleError
			if !errors.As(err, &ce) || order != nil {
				t.Fatalf("Sort = %v, %v; want nil, *CycleError", order, err)
			}
			want := "dependency cycle: " + strings.Join(tt.want, " -> ")
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestCycleErrorMessage(t *testing.T) {
	_, err := build("a>b b>c c>a").Sort()
	if got, want := fmt.Sprint(err), "dependency cycle: a -> b -> c -> a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSort(t *testing.T) {
	tests := []struct {
		name  string
		graph string
		want  []string
	}{
		{"empty", "", []string{}},
		{"ties by ID", "c b a", []string{"a", "b", "c"}},
		{"chain against ID order", "c>b b>a", []string{"c", "b", "a"}},
		{"smallest ready first", "z>a y>b", []string{"y", "b", "z", "a"}},
		{"diamond", "a>c a>b b>d c>d e", []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := build(tt.graph).Sort()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestSortDeterministic adds the same edges in many orders and expects one answer.
func TestSortDeterministic(t *testing.T) {
	p := genProject(2000, 1)
	want, err := p.g.Sort()
	if err != nil {
		t.Fatal(err)
	}
	type edge struct{ p, c string }
	var edges []edge
	for _, n := range p.g.Nodes() {
		for _, c := range p.g.Children(n) {
			edges = append(edges, edge{n, c})
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 5 {
		r.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })
		g := dag.New()
		for _, n := range p.g.Nodes() {
			if i%2 == 0 {
				g.AddNode(n)
			}
		}
		for _, e := range edges {
			g.AddEdge(e.p, e.c)
		}
		got, err := g.Sort()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: order differs", i)
		}
	}
}

// TestSortLarge sorts a 10,000-node project and a 100,000-node chain (which must not exhaust
// the stack in cycle detection either).
func TestSortLarge(t *testing.T) {
	p := genProject(10_000, 42)
	order, err := p.g.Sort()
	if err != nil {
		t.Fatal(err)
	}
	checkTopological(t, p.g, order)
	if len(order) != p.g.Len() {
		t.Errorf("len(order) = %d, want %d", len(order), p.g.Len())
	}

	chain := dag.New()
	const n = 100_000
	for i := range n - 1 {
		chain.AddEdge(fmt.Sprint(i), fmt.Sprint(i+1))
	}
	if c := chain.Cycle(); c != nil {
		t.Fatalf("Cycle = %v", c)
	}
	chain.AddEdge(fmt.Sprint(n-1), "0")
	if c := chain.Cycle(); len(c) != n+1 || c[0] != "0" || c[n] != "0" {
		t.Fatalf("Cycle has %d nodes from %v", len(c), c[:3])
	}
}

func checkTopological(t *testing.T, g *dag.Graph, order []string) {
	t.Helper()
	pos := make(map[string]int, len(order))
	for i, id := range order {
		if _, dup := pos[id]; dup {
			t.Fatalf("%s appears twice", id)
		}
		pos[id] = i
	}
	for _, id := range order {
		for _, p := range g.Parents(id) {
			if pp, ok := pos[p]; ok && pp > pos[id] {
				t.Fatalf("%s comes after its child %s", p, id)
			}
		}
	}
}
