package project

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
)

// Keys dbt reads in property files. Other keys are tolerated (dbt has many, and adds more),
// except close misspellings of these, which are reported with the key meant.
var (
	propertyFileKeys = []string{
		"version", "models", "sources", "seeds", "macros", "snapshots", "analyses", "exposures",
		"metrics", "semantic_models", "saved_queries", "groups", "unit_tests", "data_tests", "functions",
	}
	modelKeys = []string{
		"name", "description", "config", "columns", "tests", "data_tests", "versions",
		"latest_version", "meta", "docs", "access", "group", "constraints", "deprecation_date",
		"time_spine", "tags",
	}
	versionKeys = []string{
		"v", "defined_in", "description", "config", "columns", "tests", "data_tests", "docs",
		"deprecation_date", "constraints", "access", "meta",
	}
	columnKeys = []string{
		"name", "description", "data_type", "tests", "data_tests", "meta", "quote", "constraints",
		"tags", "config", "policy_tags", "granularity", "docs",
	}
	sourceKeys = []string{
		"name", "description", "database", "schema", "loader", "loaded_at_field", "loaded_at_query",
		"meta", "tags", "config", "overrides", "freshness", "quoting", "tables",
	}
	tableKeys = []string{
		"name", "description", "meta", "identifier", "loaded_at_field", "loaded_at_query", "tests",
		"data_tests", "tags", "freshness", "quoting", "external", "columns", "config",
	}
	seedKeys = []string{"name", "description", "config", "columns", "tests", "data_tests", "docs", "meta"}
)

// modelProps is a models: entry of a property file.
type modelProps struct {
	nodeProps
	versions   []*versionProps
	latest     string
	latestNode *yaml.Node
}

// nodeProps are the properties models and seeds share.
type nodeProps struct {
	name        string
	pos         config.Pos
	description string
	columns     []*Column
	tests       []*Test
	meta        *layer // top-level meta:, dbt's older spelling of config.meta
	config      *layer
}

func newNodeProps(name string, pos config.Pos) nodeProps {
	return nodeProps{name: name, pos: pos, meta: newLayer(), config: newLayer()}
}

// sharedKey reads into p a key that models and seeds both have, and reports whether kv was one.
// testsLine is the entry's own, as testsKey keeps it.
func (l *loader) sharedKey(p *nodeProps, file, where string, kv config.Pair, kind resourceKind, testsLine *int) bool {
	switch kv.Key {
	case "description":
		p.description = l.description(file, where+".description", kv.Value)
	case "config":
		l.configBlock(p.config, file, where+" config", kv.Value, kind)
	case "meta":
		l.configKey(p.meta, file, where, "meta", kv.KeyNode, kv.Value, kind)
	case "columns":
		p.columns, _ = l.columns(file, where, kv.Value, false)
	case "tests", "data_tests":
		l.testsKey(file, where, kv, "", &p.tests, testsLine)
	default:
		return false
	}
	return true
}

// versionProps is one entry of a model's versions:.
type versionProps struct {
	v              string
	pos            config.Pos
	definedIn      string
	description    string
	hasDescription bool
	meta, config   *layer
	columns        []*Column
	hasColumns     bool
	sel            *selector
	tests          []*Test
	hasTests       bool
}

// selector is the include/exclude entry of a version's columns.
type selector struct {
	all              bool
	include, exclude []string
	pos              config.Pos
}

// seedProps is a seeds: entry of a property file.
type seedProps struct {
	nodeProps
}

// propertyFile reads one dbt property file (version: 2).
func (l *loader) propertyFile(file string) {
	src, ok := l.readFile(file)
	if !ok {
		return
	}
	root, ok := l.r.Parse(file, []byte(src))
	if !ok || root == nil {
		return
	}
	pairs, _ := l.r.Mapping(file, "", root, nil)
	for _, kv := range pairs {
		if l.nearMiss(file, "", kv, propertyFileKeys) {
			continue
		}
		switch kv.Key {
		case "version":
			if v, ok := l.r.Str(file, "version", kv.Value); ok && v != "2" {
				l.r.Errorf(file, kv.Value, "property file version %q is not supported; write version: 2 (or remove it)", v)
			}
		case "models":
			for _, item := range l.list(file, "models", kv.Value) {
				l.modelEntry(file, item)
			}
		case "sources":
			for _, item := range l.list(file, "sources", kv.Value) {
				l.sourceEntry(file, item)
			}
		case "seeds":
			for _, item := range l.list(file, "seeds", kv.Value) {
				l.seedEntry(file, item)
			}
		}
	}
}

// list returns the items of a list; null is empty.
func (l *loader) list(file, where string, n *yaml.Node) []*yaml.Node {
	n = config.Resolve(n)
	if config.IsNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.r.Errorf(file, n, "%s must be a list (- item lines), got %s", where, config.Describe(n))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, item := range n.Content {
		out[i] = config.Resolve(item)
	}
	return out
}

// entry reads the mapping of a list item and its name:. what names the item for messages
// ("model"); hint says what the name is. ok is false when the entry cannot be used.
func (l *loader) entry(file string, n *yaml.Node, what, hint string) (pairs []config.Pair, name string, ok bool) {
	if n.Kind != yaml.MappingNode {
		l.r.Errorf(file, n, "each %s entry must be a mapping with a name: (- name: x), got %s", what, config.Describe(n))
		return nil, "", false
	}
	pairs, _ = l.r.Mapping(file, what, n, nil)
	for _, kv := range pairs {
		if kv.Key == "name" {
			name, _ = l.r.Str(file, what+".name", kv.Value)
		}
	}
	if name == "" {
		l.r.Errorf(file, n, "%s entry has no name; add `name:` with %s", what, hint)
		return nil, "", false
	}
	return pairs, name, true
}

// description reads a description and remembers its doc() references for checking.
func (l *loader) description(file, where string, n *yaml.Node) string {
	s, _ := l.r.Str(file, where, n)
	if strings.Contains(s, "doc(") {
		l.docRefs = append(l.docRefs, docRef{text: s, pos: config.Pos{File: file, Line: config.Resolve(n).Line}})
	}
	return s
}

// testsKey reads tests: or data_tests: into *tests, reporting an entry that gives both.
// seen is the line of the first of them in the entry, 0 before it.
func (l *loader) testsKey(file, where string, kv config.Pair, column string, tests *[]*Test, seen *int) {
	if *seen != 0 {
		l.r.Errorf(file, kv.KeyNode, "%s has both tests: and data_tests: (line %d); they are the same list, data_tests being the newer name: keep one", where, *seen)
		return
	}
	*seen = kv.KeyNode.Line
	*tests = l.testList(file, where+" "+kv.Key, kv.Value, column)
}

func (l *loader) modelEntry(file string, n *yaml.Node) {
	pairs, name, ok := l.entry(file, n, "model", "the model's file name without .sql")
	if !ok {
		return
	}
	where := fmt.Sprintf("model %q", name)
	mp := &modelProps{nodeProps: newNodeProps(name, config.Pos{File: file, Line: n.Line})}
	testsLine := 0
	for _, kv := range pairs {
		if l.nearMiss(file, where, kv, modelKeys) || l.sharedKey(&mp.nodeProps, file, where, kv, kindModel, &testsLine) {
			continue
		}
		switch kv.Key {
		case "versions":
			mp.versions = l.versions(file, where, kv.Value)
		case "latest_version":
			mp.latest, _ = l.r.Str(file, where+".latest_version", kv.Value)
			mp.latestNode = kv.Value
		}
	}
	if prev, dup := l.props[name]; dup {
		l.r.Add(mp.pos, "model %q is described twice, here and at %s; merge the two entries into one", name, prev.pos)
		return
	}
	l.props[name] = mp
	l.propOrder = append(l.propOrder, mp)
}

func (l *loader) versions(file, where string, n *yaml.Node) []*versionProps {
	var out []*versionProps
	seen := map[string]int{}
	for _, item := range l.list(file, where+".versions", n) {
		if item.Kind != yaml.MappingNode {
			l.r.Errorf(file, item, "each version of %s must be a mapping with a v: (- v: 1), got %s", where, config.Describe(item))
			continue
		}
		pairs, _ := l.r.Mapping(file, where+".versions", item, nil)
		vp := &versionProps{pos: config.Pos{File: file, Line: item.Line}, meta: newLayer(), config: newLayer()}
		for _, kv := range pairs {
			if kv.Key == "v" {
				vp.v, _ = l.r.Str(file, where+".v", kv.Value)
			}
		}
		if vp.v == "" {
			l.r.Errorf(file, item, "a version of %s has no v:; add `v: 1` (the version's number)", where)
			continue
		}
		if first, dup := seen[vp.v]; dup {
			l.r.Errorf(file, item, "version %s of %s is declared twice (first at line %d); remove one", vp.v, where, first)
			continue
		}
		seen[vp.v] = item.Line
		at := fmt.Sprintf("%s version %s", where, vp.v)
		testsLine := 0
		for _, kv := range pairs {
			if l.nearMiss(file, at, kv, versionKeys) {
				continue
			}
			switch kv.Key {
			case "defined_in":
				vp.definedIn, _ = l.r.Str(file, at+".defined_in", kv.Value)
			case "description":
				vp.description, vp.hasDescription = l.description(file, at+".description", kv.Value), true
			case "config":
				l.configBlock(vp.config, file, at+" config", kv.Value, kindModel)
			case "meta":
				l.configKey(vp.meta, file, at, "meta", kv.KeyNode, kv.Value, kindModel)
			case "columns":
				vp.columns, vp.sel = l.columns(file, at, kv.Value, true)
				vp.hasColumns = true
			case "tests", "data_tests":
				l.testsKey(file, at, kv, "", &vp.tests, &testsLine)
				vp.hasTests = true
			}
		}
		out = append(out, vp)
	}
	return out
}

// columns reads a columns: list. In a version's list (selectors true), one entry may be
// {include: ..., exclude: [...]} choosing which of the model's columns the version keeps.
func (l *loader) columns(file, where string, n *yaml.Node, selectors bool) ([]*Column, *selector) {
	var cols []*Column
	var sel *selector
	seen := map[string]int{}
	for _, item := range l.list(file, where+".columns", n) {
		if item.Kind == yaml.MappingNode && (lookup(item, "include") != nil || lookup(item, "exclude") != nil) {
			if !selectors {
				l.r.Errorf(file, item, "include/exclude entries belong in the columns of a version (under versions:), not in those of %s", where)
				continue
			}
			if sel != nil {
				l.r.Errorf(file, item, "%s has more than one include/exclude entry in its columns (first at line %d); merge them", where, sel.pos.Line)
				continue
			}
			sel = l.selector(file, where, item)
			continue
		}
		pairs, name, ok := l.entry(file, item, "column", "the column's name")
		if !ok {
			continue
		}
		col := &Column{Name: name, Pos: config.Pos{File: file, Line: item.Line}}
		at := fmt.Sprintf("%s column %q", where, name)
		testsLine := 0
		for _, kv := range pairs {
			if l.nearMiss(file, at, kv, columnKeys) {
				continue
			}
			switch kv.Key {
			case "description":
				col.Description = l.description(file, at+".description", kv.Value)
			case "data_type":
				col.DataType, _ = l.r.Str(file, at+".data_type", kv.Value)
			case "tests", "data_tests":
				l.testsKey(file, at, kv, name, &col.Tests, &testsLine)
			}
		}
		if first, dup := seen[name]; dup {
			l.r.Errorf(file, item, "column %q of %s is declared twice (first at line %d); merge the two", name, where, first)
			continue
		}
		seen[name] = item.Line
		cols = append(cols, col)
	}
	return cols, sel
}

func (l *loader) selector(file, where string, n *yaml.Node) *selector {
	s := &selector{pos: config.Pos{File: file, Line: n.Line}}
	pairs, _ := l.r.Mapping(file, where+".columns", n, []string{"include", "exclude"})
	hasInclude := false
	var excludeNode *yaml.Node
	for _, kv := range pairs {
		switch kv.Key {
		case "include":
			hasInclude = true
			v := config.Resolve(kv.Value)
			if v.Kind == yaml.ScalarNode && (v.Value == "all" || v.Value == "*") {
				s.all = true
				continue
			}
			if v.Kind != yaml.SequenceNode {
				l.r.Errorf(file, v, "include must be all, \"*\" or a list of column names, got %s", config.Describe(v))
				s.all = true
				continue
			}
			s.include, _ = l.r.StrList(file, "include", v)
		case "exclude":
			s.exclude, _ = l.r.StrList(file, "exclude", kv.Value)
			excludeNode = kv.KeyNode
		}
	}
	if !hasInclude {
		s.all = true // dbt: include defaults to all
	}
	if excludeNode != nil && !s.all {
		l.r.Errorf(file, excludeNode, "exclude only works with include: all; list the columns to keep in include, or set include: all")
	}
	return s
}

// lookup returns the value of key in mapping n, or nil, without reporting anything.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = config.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return config.Resolve(n.Content[i+1])
		}
	}
	return nil
}

func (l *loader) seedEntry(file string, n *yaml.Node) {
	pairs, name, ok := l.entry(file, n, "seed", "the seed's CSV file name without .csv")
	if !ok {
		return
	}
	where := fmt.Sprintf("seed %q", name)
	sp := &seedProps{newNodeProps(name, config.Pos{File: file, Line: n.Line})}
	testsLine := 0
	for _, kv := range pairs {
		if !l.nearMiss(file, where, kv, seedKeys) {
			l.sharedKey(&sp.nodeProps, file, where, kv, kindSeed, &testsLine)
		}
	}
	if prev, dup := l.seedProps[name]; dup {
		l.r.Add(sp.pos, "seed %q is described twice, here and at %s; merge the two entries into one", name, prev.pos)
		return
	}
	l.seedProps[name] = sp
}
