package identity

import (
	"context"
	"fmt"
)

// components labels the connected components of the undirected graph whose edges are the rows
// (a, b) of edges (a relation or a parenthesized query; BIGINT node ids): it writes
// out(node, label) for every node that has an edge, label being the smallest node of its
// component. It returns the number of rounds.
//
// Each round works on the contracted graph: one super-node per tree found so far, the edges
// between different trees. Every super-node with a smaller neighbour hooks onto the smallest
// one; pointer jumping flattens the hooks to their roots; a root that nobody hooked onto (it is
// smaller than all its neighbours, which all hooked elsewhere) hooks onto its smallest
// neighbour's root, which is smaller still and did not move. So every tree has at least two
// super-nodes, and the number of super-nodes that still have edges at least halves each round:
// O(log n) rounds. Edges are then rewritten between roots, dropping those inside a tree, so
// finished components leave the working set as soon as they are whole. name prefixes the
// rounds in the round log.
func (r *resolver) components(ctx context.Context, name, edges, out string) (int, error) {
	e, e2, h, h2, all := r.tbl("cc_e"), r.tbl("cc_e2"), r.tbl("cc_h"), r.tbl("cc_h2"), r.tbl("cc_all")
	nodes := r.tbl("cc_nodes")
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+e+" AS SELECT DISTINCT LEAST(a, b) AS a, GREATEST(a, b) AS b FROM "+edges+" x WHERE a <> b",
		"CREATE OR REPLACE TABLE "+nodes+" AS SELECT a AS node FROM "+e+" UNION DISTINCT SELECT b FROM "+e,
		"CREATE OR REPLACE TABLE "+all+" AS SELECT node, node AS parent FROM "+nodes+" WHERE FALSE",
	); err != nil {
		return 0, err
	}
	rounds := 0
	for {
		n, err := r.count(ctx, e)
		if err != nil {
			return rounds, err
		}
		if n == 0 {
			break
		}
		if rounds == r.rules.MaxRounds {
			return rounds, fmt.Errorf("connected components did not converge in %d rounds (%d links still between groups); raise identity.max_rounds or look for a long chain of links", rounds, n)
		}
		rounds++
		// Hook every super-node onto its smallest neighbour, then jump to the roots.
		if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+h+" AS SELECT b AS node, MIN(a) AS parent FROM "+e+" GROUP BY b"); err != nil {
			return rounds, err
		}
		jumps, err := r.jump(ctx, h, h2)
		if err != nil {
			return rounds, err
		}
		// Roots nobody hooked onto hook onto their smallest neighbour's root.
		if err := r.exec(ctx, "INSERT INTO "+h+" SELECT e.a AS node, MIN(COALESCE(t.parent, e.b)) AS parent FROM "+e+" e "+
			"LEFT JOIN "+h+" t ON t.node = e.b "+
			"LEFT JOIN "+h+" s ON s.node = e.a "+
			"LEFT JOIN (SELECT DISTINCT parent FROM "+h+") c ON c.parent = e.a "+
			"WHERE s.node IS NULL AND c.parent IS NULL GROUP BY e.a",
			"INSERT INTO "+all+" SELECT node, parent FROM "+h,
			"CREATE OR REPLACE TABLE "+e2+" AS SELECT DISTINCT LEAST(ra, rb) AS a, GREATEST(ra, rb) AS b FROM ("+
				"SELECT COALESCE(ha.parent, e.a) AS ra, COALESCE(hb.parent, e.b) AS rb FROM "+e+" e "+
				"LEFT JOIN "+h+" ha ON ha.node = e.a LEFT JOIN "+h+" hb ON hb.node = e.b) x WHERE ra <> rb",
		); err != nil {
			return rounds, err
		}
		e, e2 = e2, e
		left, err := r.count(ctx, e)
		if err != nil {
			return rounds, err
		}
		hooked, err := r.count(ctx, h)
		if err != nil {
			return rounds, err
		}
		r.logf("%s: round %d: %d links between groups -> %d hooked (%d jumps), %d links left", name, rounds, n, hooked, jumps, left)
		r.stats.RoundLog = append(r.stats.RoundLog, fmt.Sprintf("%s%d:%d>%d", name, rounds, n, left))
	}
	// Every node's hook chain ends at its component's smallest node.
	if _, err := r.jump(ctx, all, h2); err != nil {
		return rounds, err
	}
	err := r.exec(ctx, "CREATE OR REPLACE TABLE "+out+" AS SELECT n.node, COALESCE(a.parent, n.node) AS label FROM "+nodes+" n LEFT JOIN "+all+" a ON a.node = n.node")
	r.drop(ctx, "cc_e", "cc_e2", "cc_h", "cc_h2", "cc_all", "cc_nodes")
	return rounds, err
}

// jump replaces every parent in the (node, parent) table t with its root, following parents
// until they are not themselves in t (or point to themselves), using tmp as scratch. It
// returns the number of passes; each pass halves the longest chain.
func (r *resolver) jump(ctx context.Context, t, tmp string) (int, error) {
	for pass := 0; ; pass++ {
		n, err := r.queryInt(ctx, "SELECT COUNT(*) FROM "+t+" c JOIN "+t+" p ON p.node = c.parent WHERE p.parent <> c.parent")
		if err != nil {
			return pass, err
		}
		if n == 0 {
			return pass, nil
		}
		if pass == 64 {
			return pass, fmt.Errorf("pointer jumping did not converge in 64 passes (a cycle of parents)")
		}
		if err := r.exec(ctx,
			"CREATE OR REPLACE TABLE "+tmp+" AS SELECT c.node, COALESCE(p.parent, c.parent) AS parent FROM "+t+" c LEFT JOIN "+t+" p ON p.node = c.parent",
			"DROP TABLE "+t,
			"ALTER TABLE "+tmp+" RENAME TO "+r.ident(t),
		); err != nil {
			return pass, err
		}
	}
}

// propagate is the textbook alternative to components, kept for the benchmark: every node
// takes the smallest label among itself and its neighbours, one hop per round, until nothing
// changes; it needs as many rounds as the longest shortest path in a component.
func (r *resolver) propagate(ctx context.Context, edges, out string, maxRounds int) (int, error) {
	e, l, l2 := r.tbl("lp_e"), r.tbl("lp_l"), r.tbl("lp_l2")
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+e+" AS SELECT DISTINCT a, b FROM (SELECT a, b FROM "+edges+" x UNION ALL SELECT b, a FROM "+edges+" y) u WHERE a <> b",
		"CREATE OR REPLACE TABLE "+l+" AS SELECT DISTINCT a AS node, a AS label FROM "+e,
	); err != nil {
		return 0, err
	}
	rounds := 0
	for {
		rounds++
		if rounds > maxRounds {
			return rounds, fmt.Errorf("label propagation did not converge in %d rounds", maxRounds)
		}
		if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+l2+" AS SELECT l.node, LEAST(l.label, COALESCE(m.label, l.label)) AS label FROM "+l+" l "+
			"LEFT JOIN (SELECT e.a AS node, MIN(n.label) AS label FROM "+e+" e JOIN "+l+" n ON n.node = e.b GROUP BY e.a) m ON m.node = l.node"); err != nil {
			return rounds, err
		}
		changed, err := r.queryInt(ctx, "SELECT COUNT(*) FROM "+l2+" n JOIN "+l+" o ON o.node = n.node WHERE n.label <> o.label")
		if err != nil {
			return rounds, err
		}
		l, l2 = l2, l
		if changed == 0 {
			break
		}
	}
	err := r.exec(ctx, "CREATE OR REPLACE TABLE "+out+" AS SELECT node, label FROM "+l)
	r.drop(ctx, "lp_e", "lp_l", "lp_l2")
	return rounds, err
}
