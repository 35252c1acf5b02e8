package dag

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Resolver turns one selector method and value into node IDs: ("tag", "nightly"),
// ("path", "models/staging"), ("state", "modified"), ("source", "raw.events"),
// ("config.materialized", "view"). A plain word has method "": the caller decides how names,
// wildcards ("stg_*") and versioned names match.
//
// Returning no IDs makes Select report the selector in a *NoMatchError; return ErrEmptyOK
// (alone or wrapped) instead when matching nothing is expected (state:modified on an unchanged
// project). Any other error aborts Select. Every ID returned must be a node of the graph.
type Resolver func(method, value string) ([]string, error)

// ErrEmptyOK is returned by a Resolver to say that a selector matching nothing is fine.
var ErrEmptyOK = errors.New("dag: empty match is expected")

// NoMatchError lists the selector atoms that matched no node. Select returns it together with
// a valid selection (computed as if those atoms matched nothing), so the caller may treat it as
// a warning or as an error.
type NoMatchError struct {
	Selectors []string // as written, graph operators included: "+tag:nightly"; in input order
}

func (e *NoMatchError) Error() string {
	if len(e.Selectors) == 1 {
		return fmt.Sprintf("selector %q matched nothing", e.Selectors[0])
	}
	q := make([]string, len(e.Selectors))
	for i, s := range e.Selectors {
		q[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("selectors %s matched nothing", strings.Join(q, ", "))
}

// Select returns the nodes chosen by dbt-style selectors, in Sort's topological order.
//
// Each string of include and exclude holds space-separated selectors whose results are united;
// a selector is one or more comma-separated atoms whose results are intersected:
//
//	orders            the node(s) the Resolver returns for method "" and value "orders"
//	tag:nightly       the nodes the Resolver returns for method "tag" and value "nightly"
//	+orders           orders and all of its ancestors; 2+orders: up to grandparents
//	orders+           orders and all of its descendants; orders+1: and its children
//	+orders+          both
//	@orders           orders, its descendants, and every ancestor of those
//	tag:nightly,+fct  nodes tagged nightly that fct depends on (or fct itself)
//	"a b" or [a, b]   a or b
//
// An empty include selects every node; nodes matched by exclude are always removed. If some atom matched nothing
// (and the resolver did not return ErrEmptyOK), Select returns the selection together with a
// *NoMatchError. Any other error (bad syntax, a resolver error, a dependency cycle) comes with a
// nil selection. A nil resolve matches a plain word against the node IDs, exactly or as a
// path.Match pattern, and knows no methods.
func (g *Graph) Select(include, exclude []string, resolve Resolver) ([]string, error) {
	inc, err := parseSelectors(include)
	if err != nil {
		return nil, err
	}
	exc, err := parseSelectors(exclude)
	if err != nil {
		return nil, err
	}
	if resolve == nil {
		resolve = g.matchIDs
	}
	s := &selection{g: g, resolve: resolve, cache: make(map[[2]string]resolved), reported: make(map[string]bool)}
	chosen := newBitset(len(g.ids))
	if len(inc) == 0 {
		for v := range g.ids {
			chosen.set(v)
		}
	} else if chosen, err = s.union(inc); err != nil {
		return nil, err
	}
	if len(exc) > 0 {
		drop, err := s.union(exc)
		if err != nil {
			return nil, err
		}
		chosen.andNot(drop)
	}
	order, err := g.topo()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, chosen.count())
	for _, v := range order {
		if chosen.has(v) {
			out = append(out, g.ids[v])
		}
	}
	if len(s.unmatched) > 0 {
		return out, &NoMatchError{Selectors: s.unmatched}
	}
	return out, nil
}

// matchIDs is the default Resolver.
func (g *Graph) matchIDs(method, value string) ([]string, error) {
	if method != "" {
		return nil, fmt.Errorf("unknown selector method %q", method)
	}
	if g.Has(value) {
		return []string{value}, nil
	}
	if !strings.ContainsAny(value, `*?[\`) {
		return nil, nil
	}
	if _, err := path.Match(value, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q: %v", value, err)
	}
	var out []string
	for _, id := range g.ids {
		if ok, _ := path.Match(value, id); ok {
			out = append(out, id)
		}
	}
	return out, nil
}

// atom is one selector without set operators: [@][N+][method:]value[+N].
type atom struct {
	raw           string
	method, value string
	at            bool // @: descendants and their ancestors
	parents       bool // N+ prefix
	parentDepth   int  // -1 = unlimited
	children      bool // +N suffix
	childDepth    int  // -1 = unlimited
}

// parseSelectors parses selector strings into a union of intersections of atoms.
func parseSelectors(specs []string) ([][]atom, error) {
	var union [][]atom
	for _, spec := range specs {
		for _, word := range strings.Fields(spec) {
			var inter []atom
			for part := range strings.SplitSeq(word, ",") {
				if part == "" {
					return nil, fmt.Errorf("invalid selector %q: empty term around ','", word)
				}
				a, err := parseAtom(part)
				if err != nil {
					return nil, err
				}
				inter = append(inter, a)
			}
			union = append(union, inter)
		}
	}
	return union, nil
}

func parseAtom(raw string) (atom, error) {
	a := atom{raw: raw, parentDepth: -1, childDepth: -1}
	bad := func(why string) (atom, error) {
		return atom{}, fmt.Errorf("invalid selector %q: %s", raw, why)
	}
	s := raw
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		a.at, s = true, rest
	}
	// N+ prefix: optional digits then '+'.
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '+' {
		a.parents = true
		if i > 0 {
			d, err := strconv.Atoi(s[:i])
			if err != nil {
				return bad("depth " + s[:i] + " is out of range")
			}
			a.parentDepth = d
		}
		s = s[i+1:]
	}
	// +N suffix: the last '+' followed by digits only.
	if j := strings.LastIndexByte(s, '+'); j >= 0 && allDigits(s[j+1:]) {
		a.children = true
		if j+1 < len(s) {
			d, err := strconv.Atoi(s[j+1:])
			if err != nil {
				return bad("depth " + s[j+1:] + " is out of range")
			}
			a.childDepth = d
		}
		s = s[:j]
	}
	if a.at && (a.parents || a.children) {
		return bad(`"@" cannot be combined with "+"`)
	}
	if k := strings.IndexByte(s, ':'); k > 0 && isMethod(s[:k]) {
		a.method, s = s[:k], s[k+1:]
	}
	a.value = s
	switch {
	case s == "":
		return bad("no node name or method value")
	case strings.ContainsAny(s[:1], "+@"), s[len(s)-1] == '+':
		return bad(`misplaced "+" or "@" (use [@][N+]name[+N])`)
	}
	return a, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isMethod reports whether s looks like a selector method: word characters and dots
// ("tag", "config.materialized").
func isMethod(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c == '_' || c == '.' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// selection evaluates parsed selectors against one graph.
type selection struct {
	g         *Graph
	resolve   Resolver
	cache     map[[2]string]resolved // by method, value
	unmatched []string               // atoms that matched nothing, as written
	reported  map[string]bool        // the same, as a set
}

type resolved struct {
	set   bitset
	quiet bool // matched something, or the resolver said matching nothing is fine
}

func (s *selection) union(u [][]atom) (bitset, error) {
	out := newBitset(len(s.g.ids))
	for _, inter := range u {
		var set bitset
		for _, a := range inter {
			b, err := s.atom(a)
			if err != nil {
				return nil, err
			}
			if set == nil {
				set = b
			} else {
				set.and(b)
			}
		}
		out.or(set)
	}
	return out, nil
}

// atom returns a fresh set of the nodes a selects.
func (s *selection) atom(a atom) (bitset, error) {
	base, err := s.base(a)
	if err != nil {
		return nil, err
	}
	g := s.g
	set := append(bitset(nil), base...)
	roots := base.members()
	switch {
	case a.at:
		g.expand(set, roots, -1, g.children)
		g.expand(set, set.members(), -1, g.parents)
	default:
		if a.parents {
			g.expand(set, roots, a.parentDepth, g.parents)
		}
		if a.children {
			// Descendants of the roots only, not of the ancestors just added.
			down := append(bitset(nil), base...)
			g.expand(down, roots, a.childDepth, g.children)
			set.or(down)
		}
	}
	return set, nil
}

// base resolves a's method and value, before graph operators; the result must not be modified.
func (s *selection) base(a atom) (bitset, error) {
	key := [2]string{a.method, a.value}
	r, ok := s.cache[key]
	if !ok {
		ids, err := s.resolve(a.method, a.value)
		emptyOK := errors.Is(err, ErrEmptyOK)
		if err != nil && !emptyOK {
			return nil, fmt.Errorf("selector %q: %w", a.raw, err)
		}
		r.set = newBitset(len(s.g.ids))
		for _, id := range ids {
			v, ok := s.g.index[id]
			if !ok {
				return nil, fmt.Errorf("selector %q: resolved to %q, which is not in the graph", a.raw, id)
			}
			r.set.set(v)
		}
		r.quiet = emptyOK || len(ids) > 0
		s.cache[key] = r
	}
	if !r.quiet && !s.reported[a.raw] {
		s.reported[a.raw] = true
		s.unmatched = append(s.unmatched, a.raw)
	}
	return r.set, nil
}
