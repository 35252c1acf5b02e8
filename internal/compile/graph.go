package compile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/dag"
)

// sortNodes orders c.nodes topologically with the dag package (so Order is the order dag.Sort
// and dag.Select give: among ready nodes the smallest ID first) and reports a dependency cycle
// with its files. It returns false when there is a cycle.
func (c *compiler) sortNodes() bool {
	g := dag.New()
	ids := sortedKeys(c.nodes)
	for _, id := range ids {
		g.AddNode(id)
	}
	for _, id := range ids {
		for _, p := range c.nodes[id].DependsOn {
			if _, ok := c.nodes[p]; ok {
				g.AddEdge(p, id)
			}
		}
	}
	order, err := g.Sort()
	if err != nil {
		var ce *dag.CycleError
		if !errors.As(err, &ce) {
			c.errs.add(config.Pos{}, "%v", err)
			return false
		}
		// ce.Path follows edges parent -> child; reversed, each node refs the next.
		path := slices.Clone(ce.Path)
		slices.Reverse(path)
		c.reportCycle(path[:len(path)-1])
		return false
	}
	c.order = order
	return true
}

// reportCycle reports cycle: each node refs the next, the last refs the first.
func (c *compiler) reportCycle(cycle []string) {
	names := make([]string, 0, len(cycle)+1)
	files := make([]string, 0, len(cycle)+1)
	for _, id := range append(cycle, cycle[0]) {
		names = append(names, strings.TrimPrefix(id, "model."))
		if u := c.byID[id]; u != nil {
			files = append(files, u.path)
		} else {
			files = append(files, id)
		}
	}
	pos := config.Pos{}
	if first, next := c.byID[cycle[0]], c.byID[cycle[1%len(cycle)]]; first != nil && next != nil {
		pos.File = first.path
		if first.model != nil {
			pos.Line = refLine(first.model.SQL, next.name)
		}
	}
	c.errs.add(pos, "dependency cycle: %s (%s); each model refs the next: remove one of these refs",
		strings.Join(names, " -> "), strings.Join(files, " -> "))
}

// refLine is the first line of src with a ref() to name, or 0.
func refLine(src, name string) int {
	re := regexp.MustCompile(`ref\(\s*['"]` + regexp.QuoteMeta(name) + `['"]`)
	loc := re.FindStringIndex(src)
	if loc == nil {
		return 0
	}
	return strings.Count(src[:loc[0]], "\n") + 1
}

// injectEphemerals sets the final SQL of models and tests: ephemeral models they read, directly
// or through other ephemeral models, become CTEs at the top, each once, dependencies first.
func (c *compiler) injectEphemerals() {
	for _, id := range c.order {
		n := c.nodes[id]
		switch n.Kind {
		case KindModel:
			u := c.byID[id]
			ctes := c.ephemeralCTEs(n.DependsOn)
			n.SQL = injectCTEs(u.raw, ctes)
			if u.rawInc != "" || n.Config.Materialized == "incremental" {
				n.IncrementalSQL = injectCTEs(u.rawInc, ctes)
			}
			if n.ReadsClock = ReadsClock(n.SQL); n.ReadsClock == "" {
				n.ReadsClock = ReadsClock(n.IncrementalSQL)
			}
		case KindTest:
			ctes := c.ephemeralCTEs(n.DependsOn)
			n.SQL = injectCTEs(n.SQL, ctes)
			if n.SingularSQL != "" {
				n.SingularSQL = n.SQL
			}
		}
	}
}

type cte struct{ name, body string }

func (c *compiler) ephemeralCTEs(deps []string) []cte {
	var out []cte
	var seen map[string]bool
	var visit func(id string)
	visit = func(id string) {
		u := c.byID[id]
		if u == nil || !u.key.ephemeral || u.disabled || u.failed || seen[id] {
			return
		}
		seen[id] = true
		for _, p := range unitIDs(u.refs) {
			visit(p)
		}
		out = append(out, cte{name: u.key.name, body: u.raw})
	}
	for _, d := range deps {
		if u := c.byID[d]; u != nil && u.key.ephemeral {
			if seen == nil {
				seen = map[string]bool{}
			}
			visit(d)
		}
	}
	return out
}

// injectCTEs puts ctes at the top of sql, merged into its own leading WITH if it has one.
func injectCTEs(sql string, ctes []cte) string {
	if len(ctes) == 0 {
		return sql
	}
	var b strings.Builder
	for i, c := range ctes {
		if i > 0 {
			b.WriteString(", ")
		}
		body := strings.TrimRight(strings.TrimSpace(c.body), "; \t\r\n")
		b.WriteString(c.name + " as (\n" + body + "\n)")
	}
	block := b.String()
	p := skipSpaceAndComments(sql)
	if kw, rest, ok := leadingWith(sql[p:]); ok {
		return sql[:p] + kw + " " + block + ", " + rest
	}
	return sql[:p] + "with " + block + "\n" + sql[p:]
}

// skipSpaceAndComments returns the offset of the first SQL token of s.
func skipSpaceAndComments(s string) int {
	i := 0
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r':
			i++
		case strings.HasPrefix(s[i:], "--"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return len(s)
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return len(s)
			}
			i += 2 + j + 2
		default:
			return i
		}
	}
	return i
}

var withRe = regexp.MustCompile(`(?i)^with(\s+recursive)?\s+`)

// leadingWith splits "WITH [RECURSIVE] rest" into the keywords as written and rest.
func leadingWith(s string) (kw, rest string, ok bool) {
	m := withRe.FindStringSubmatchIndex(s)
	if m == nil {
		return "", "", false
	}
	kw = s[:4]
	if m[2] >= 0 {
		kw = strings.Join(strings.Fields(s[:m[3]]), " ")
	}
	return kw, s[m[1]:], true
}

// fingerprint hashes every node in topological order: its rendered SQL, config, relation and
// the fingerprints of its parents and the IDs of its sources. Nothing else goes in (no time,
// no map order), so the same inputs always give the same fingerprint.
func (c *compiler) fingerprint() {
	for _, id := range c.order {
		n := c.nodes[id]
		h := sha256.New()
		field := func(k, v string) { fmt.Fprintf(h, "%s %d\n%s\n", k, len(v), v) }
		field("kind", n.Kind)
		field("materialized", n.Config.Materialized)
		field("relation", n.Relation.String())
		field("sql", n.SQL)
		field("incremental_sql", n.IncrementalSQL)
		cfg, err := json.Marshal(configMap(n.Config))
		if err != nil {
			c.errs.add(n.Pos, "config cannot be encoded: %v", err)
		}
		field("config", string(cfg))
		if n.Kind == KindTest {
			field("severity", n.Severity)
		}
		if n.Seed != nil {
			types, _ := json.Marshal(n.Seed.ColumnTypes)
			field("column_types", string(types))
			field("data", c.seedHash(n))
		}
		// The node's own checksum, before its parents are mixed in: state:modified compares it,
		// so a changed model selects itself and not everything downstream of it.
		n.Checksum = hex.EncodeToString(h.Sum(nil))
		for _, p := range n.DependsOn {
			fp := ""
			if pn := c.nodes[p]; pn != nil {
				fp = pn.Fingerprint
			}
			field("parent", p+" "+fp)
		}
		for _, s := range n.Sources {
			field("source", s)
		}
		n.Fingerprint = hex.EncodeToString(h.Sum(nil))
	}
}

// seedHash is the SHA-256 of the seed's CSV file, so a changed seed changes the fingerprints
// downstream. Projects built in memory (no Dir) have nothing to read.
func (c *compiler) seedHash(n *Node) string {
	if c.p.Dir == "" || n.Seed.Path == "" {
		return ""
	}
	f, err := os.Open(filepath.Join(c.p.Dir, filepath.FromSlash(n.Seed.Path)))
	if err != nil {
		c.errs.add(n.Pos, "seed %s: %v", n.Seed.Name, err)
		return ""
	}
	defer f.Close()
	var h hash.Hash = sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		c.errs.add(n.Pos, "seed %s: %v", n.Seed.Name, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
