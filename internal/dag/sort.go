package dag

import (
	"cmp"
	"slices"
	"strings"
)

// CycleError is the error Sort and Select return for a graph with a dependency cycle.
type CycleError struct {
	// Path is the cycle as a closed path, as Cycle returns it: ["a", "b", "c", "a"].
	Path []string
}

func (e *CycleError) Error() string {
	return "dependency cycle: " + strings.Join(e.Path, " -> ")
}

// Sort returns every node in a topological order (each node after all of its parents). Among
// nodes that are ready at the same time the smallest ID comes first, so the order depends only
// on the graph, never on insertion order. A graph with a cycle yields a *CycleError.
func (g *Graph) Sort() ([]string, error) {
	order, err := g.topo()
	if err != nil {
		return nil, err
	}
	return g.names(order), nil
}

// topo is Sort on node numbers: Kahn's algorithm with a min-heap on ID rank.
func (g *Graph) topo() ([]int, error) {
	n := len(g.ids)
	indeg := make([]int32, n)
	h := &nodeHeap{ids: g.ids}
	for v := range n {
		indeg[v] = int32(len(g.parents[v]))
		if indeg[v] == 0 {
			h.items = append(h.items, v)
		}
	}
	h.init()
	order := make([]int, 0, n)
	for len(h.items) > 0 {
		v := h.pop()
		order = append(order, v)
		for _, c := range g.children[v] {
			if indeg[c]--; indeg[c] == 0 {
				h.push(c)
			}
		}
	}
	if len(order) < n {
		return nil, &CycleError{Path: g.Cycle()}
	}
	return order, nil
}

// Cycle returns one dependency cycle as a closed path ["a", "b", "c", "a"] (a self-loop is
// ["a", "a"]), or nil if the graph is acyclic. The answer is deterministic: it starts at the
// smallest ID that lies on any cycle and is a shortest cycle through it, preferring smaller IDs
// at each step.
func (g *Graph) Cycle() []string {
	comp := g.components()
	// A node is on a cycle if its strongly connected component has another node or it has a
	// self-loop.
	size := make([]int, len(comp))
	for _, c := range comp {
		size[c]++
	}
	start := -1
	for v, c := range comp {
		if size[c] > 1 || g.selfLoop(v) {
			if start < 0 || g.ids[v] < g.ids[start] {
				start = v
			}
		}
	}
	if start < 0 {
		return nil
	}
	// Breadth-first search from start within its component, children in ID order, until an
	// edge leads back to start.
	pred := make([]int, len(comp)) // node -> predecessor + 1 on the search; 0 = unseen
	pred[start] = -1
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, c := range g.children[u] {
			if c == start {
				var path []string
				for v := u; v >= 0; v = pred[v] - 1 {
					path = append(path, g.ids[v])
				}
				slices.Reverse(path)
				return append(path, g.ids[start])
			}
			if pred[c] == 0 && comp[c] == comp[start] {
				pred[c] = u + 1
				queue = append(queue, c)
			}
		}
	}
	panic("dag: node on a cycle has no path back to itself") // unreachable
}

func (g *Graph) selfLoop(v int) bool {
	_, found := slices.BinarySearchFunc(g.children[v], g.ids[v], func(c int, id string) int {
		return cmp.Compare(g.ids[c], id)
	})
	return found
}

// components returns each node's strongly connected component number (Tarjan's algorithm,
// iterative so that long chains cannot exhaust the stack).
func (g *Graph) components() []int {
	n := len(g.ids)
	index := make([]int, n) // discovery order + 1; 0 = unvisited
	low := make([]int, n)
	onStack := make([]bool, n)
	comp := make([]int, n)
	var stack []int
	type frame struct{ v, next int }
	var calls []frame
	counter, ncomp := 0, 0
	visit := func(v int) {
		counter++
		index[v], low[v] = counter, counter
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v: v})
	}
	for s := range n {
		if index[s] != 0 {
			continue
		}
		visit(s)
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if f.next < len(g.children[v]) {
				w := g.children[v][f.next]
				f.next++
				if index[w] == 0 {
					visit(w)
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				u := calls[len(calls)-1].v
				low[u] = min(low[u], low[v])
			}
		}
	}
	return comp
}

// nodeHeap is a min-heap of node numbers ordered by a priority (ID rank, or position in a
// walk's order).
type nodeHeap struct {
	items []int
	rank  []int32  // priority by node, if set
	ids   []string // else priority by ID
}

func (h *nodeHeap) less(i, j int) bool {
	if h.rank != nil {
		return h.rank[h.items[i]] < h.rank[h.items[j]]
	}
	return h.ids[h.items[i]] < h.ids[h.items[j]]
}

func (h *nodeHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *nodeHeap) push(v int) {
	h.items = append(h.items, v)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *nodeHeap) pop() int {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	h.down(0)
	return top
}

func (h *nodeHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}
