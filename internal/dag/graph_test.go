package dag_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGraphQueries(t *testing.T) {
	// Inserted out of order, with a duplicate edge: answers are sorted and deduplicated.
	g := build("c>d b>d a>b a>c a>b d>e e>f x")
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"Nodes", g.Nodes(), []string{"a", "b", "c", "d", "e", "f", "x"}},
		{"Parents d", g.Parents("d"), []string{"b", "c"}},
		{"Parents a", g.Parents("a"), []string{}},
		{"Parents unknown", g.Parents("nope"), nil},
		{"Children a", g.Children("a"), []string{"b", "c"}},
		{"Children unknown", g.Children("nope"), nil},
		{"Ancestors e all", g.Ancestors("e", -1), []string{"a", "b", "c", "d"}},
		{"Ancestors e 1", g.Ancestors("e", 1), []string{"d"}},
		{"Ancestors e 2", g.Ancestors("e", 2), []string{"b", "c", "d"}},
		{"Ancestors e 0", g.Ancestors("e", 0), []string{}},
		{"Ancestors root", g.Ancestors("a", -1), []string{}},
		{"Descendants a all", g.Descendants("a", -1), []string{"b", "c", "d", "e", "f"}},
		{"Descendants a 2", g.Descendants("a", 2), []string{"b", "c", "d"}},
		{"Descendants unknown", g.Descendants("nope", -1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
	if g.Len() != 7 || !g.Has("x") || g.Has("y") {
		t.Errorf("Len = %d, Has(x) = %v, Has(y) = %v", g.Len(), g.Has("x"), g.Has("y"))
	}
}

func TestAncestorsOnCycleExcludeSelf(t *testing.T) {
	g := build("a>b b>c c>a")
	if diff := cmp.Diff([]string{"b", "c"}, g.Ancestors("a", -1)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestSubgraph(t *testing.T) {
	tests := []struct {
		name  string
		graph string
		keep  []string
		want  map[string][]string // node -> parents
	}{
		{
			name:  "direct edges kept",
			graph: "a>b b>c a>c",
			keep:  []string{"a", "b"},
			want:  map[string][]string{"a": {}, "b": {"a"}},
		},
		{
			name:  "transitive edge through dropped nodes",
			graph: "a>x x>y y>b c>y z>b",
			keep:  []string{"b", "a", "c", "nope"},
			want:  map[string][]string{"a": {}, "b": {"a", "c"}, "c": {}},
		},
		{
			name:  "kept node stops the search",
			graph: "a>b b>x x>c",
			keep:  []string{"a", "b", "c"},
			want:  map[string][]string{"a": {}, "b": {"a"}, "c": {"b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := build(tt.graph).Subgraph(tt.keep)
			got := map[string][]string{}
			for _, n := range s.Nodes() {
				got[n] = s.Parents(n)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}
