package dag

import (
	"cmp"
	"slices"
	"sort"
)

// Graph is a directed graph of string IDs where an edge parent -> child means the child depends
// on the parent. Every method that returns IDs returns them sorted (or, for Sort and Select, in
// a deterministic topological order), so output never depends on insertion order.
//
// A Graph is not safe for concurrent mutation. Once built, any number of goroutines may read it
// at once (no method caches lazily).
type Graph struct {
	index    map[string]int // ID -> node number
	ids      []string       // node number -> ID
	parents  [][]int        // node number -> parents, sorted by ID
	children [][]int        // node number -> children, sorted by ID
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{index: make(map[string]int)}
}

// AddNode adds a node; adding an existing node does nothing.
func (g *Graph) AddNode(id string) {
	g.node(id)
}

// node returns the number of id, adding it if needed.
func (g *Graph) node(id string) int {
	if n, ok := g.index[id]; ok {
		return n
	}
	n := len(g.ids)
	g.index[id] = n
	g.ids = append(g.ids, id)
	g.parents = append(g.parents, nil)
	g.children = append(g.children, nil)
	return n
}

// AddEdge records that child depends on parent, adding either node if missing. Adding an
// existing edge does nothing. AddEdge(a, a) records a self-loop, which Cycle and Sort report.
func (g *Graph) AddEdge(parent, child string) {
	p, c := g.node(parent), g.node(child)
	if g.insert(&g.children[p], c) {
		g.insert(&g.parents[c], p)
	}
}

// insert adds n to the ID-sorted list, reporting false if it was already there.
func (g *Graph) insert(list *[]int, n int) bool {
	l := *list
	id := g.ids[n]
	// Appending in ID order is the common case (callers iterate sorted models).
	if len(l) == 0 || g.ids[l[len(l)-1]] < id {
		*list = append(l, n)
		return true
	}
	i := sort.Search(len(l), func(i int) bool { return g.ids[l[i]] >= id })
	if l[i] == n {
		return false
	}
	*list = slices.Insert(l, i, n)
	return true
}

// Has reports whether id is a node of g.
func (g *Graph) Has(id string) bool {
	_, ok := g.index[id]
	return ok
}

// Len returns the number of nodes.
func (g *Graph) Len() int { return len(g.ids) }

// Nodes returns every node, sorted.
func (g *Graph) Nodes() []string {
	out := slices.Clone(g.ids)
	slices.Sort(out)
	return out
}

// Parents returns the direct parents of id (the nodes it depends on), sorted; nil if id is not
// a node.
func (g *Graph) Parents(id string) []string {
	n, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.parents[n])
}

// Children returns the direct children of id (the nodes that depend on it), sorted; nil if id
// is not a node.
func (g *Graph) Children(id string) []string {
	n, ok := g.index[id]
	if !ok {
		return nil
	}
	return g.names(g.children[n])
}

// Ancestors returns the nodes id depends on, directly or not, up to depth generations away
// (depth < 0: unlimited; 1: the parents), sorted. id itself is never included, even on a cycle.
func (g *Graph) Ancestors(id string, depth int) []string {
	return g.reach(id, depth, g.parents)
}

// Descendants returns the nodes that depend on id, directly or not, up to depth generations
// away (depth < 0: unlimited; 1: the children), sorted. id itself is never included.
func (g *Graph) Descendants(id string, depth int) []string {
	return g.reach(id, depth, g.children)
}

func (g *Graph) reach(id string, depth int, adj [][]int) []string {
	n, ok := g.index[id]
	if !ok {
		return nil
	}
	seen := newBitset(len(g.ids))
	seen.set(n)
	g.expand(seen, []int{n}, depth, adj)
	seen.clear(n)
	out := make([]string, 0, seen.count())
	seen.each(func(i int) { out = append(out, g.ids[i]) })
	slices.Sort(out)
	return out
}

// expand adds to seen every node reachable from frontier (which must already be in seen) within
// depth steps along adj (depth < 0: unlimited): a multi-source breadth-first search. It does
// not modify frontier.
func (g *Graph) expand(seen bitset, roots []int, depth int, adj [][]int) {
	frontier := slices.Clone(roots)
	var next []int
	for d := 0; len(frontier) > 0 && (depth < 0 || d < depth); d++ {
		next = next[:0]
		for _, u := range frontier {
			for _, v := range adj[u] {
				if !seen.has(v) {
					seen.set(v)
					next = append(next, v)
				}
			}
		}
		frontier, next = next, frontier
	}
}

// names maps node numbers to IDs.
func (g *Graph) names(ns []int) []string {
	if len(ns) == 0 {
		return []string{}
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = g.ids[n]
	}
	return out
}

// Subgraph returns the graph restricted to ids (IDs that are not nodes of g are ignored). It
// keeps the edges between kept nodes and adds an edge a -> b wherever a path from a to b in g
// passes through dropped nodes only, so any topological order of the subgraph is consistent
// with g.
func (g *Graph) Subgraph(ids []string) *Graph {
	keep := make([]int, 0, len(ids))
	for _, id := range ids {
		if n, ok := g.index[id]; ok {
			keep = append(keep, n)
		}
	}
	keep = dedupe(keep)
	// Add nodes in ID order so that edges append without shifting.
	slices.SortFunc(keep, func(a, b int) int { return cmp.Compare(g.ids[a], g.ids[b]) })
	parents := g.keptParents(keep)
	s := New()
	for _, n := range keep {
		s.AddNode(g.ids[n])
	}
	for i, n := range keep {
		for _, p := range parents[i] {
			s.AddEdge(g.ids[keep[p]], g.ids[n])
		}
	}
	return s
}

// keptParents returns, for each keep[i], the positions in keep of its parents in the subgraph
// of g restricted to keep: kept nodes reachable upward through dropped nodes only. keep must
// not repeat a node; nodes numbered -1 (not in g) have no parents.
func (g *Graph) keptParents(keep []int) [][]int {
	pos := make([]int32, len(g.ids)) // node -> position in keep + 1; 0 = dropped
	for i, n := range keep {
		if n >= 0 {
			pos[n] = int32(i + 1)
		}
	}
	stamp := make([]int32, len(g.ids)) // node -> last keep position + 1 that visited it
	out := make([][]int, len(keep))
	var stack []int
	for i, n := range keep {
		if n < 0 {
			continue
		}
		mark := int32(i + 1)
		var ps []int
		stack = append(stack[:0], g.parents[n]...)
		for len(stack) > 0 {
			u := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if stamp[u] == mark {
				continue
			}
			stamp[u] = mark
			if pos[u] > 0 {
				ps = append(ps, int(pos[u]-1))
				continue
			}
			stack = append(stack, g.parents[u]...)
		}
		out[i] = ps
	}
	return out
}

func dedupe(ns []int) []int {
	seen := make(map[int]bool, len(ns))
	out := ns[:0]
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
