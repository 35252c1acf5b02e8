package compile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/nikolalohinski/gonja/v2/nodes"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// testSpec is one data test to compile: a generic test on a model, source or column, or a
// singular test file.
type testSpec struct {
	baseID   string
	test     *project.Test
	singular *project.SingularTest
	column   string
	target   *unit                // the tested model
	source   *project.SourceTable // or the tested source table
	testOf   string
	pos      config.Pos

	sql      string
	refs     []*unit
	sources  []string
	severity string
	cfg      project.Config // the test's config (a singular test's config() calls)
	skip     bool           // disabled with config(enabled=false)
	failed   bool
}

var builtinTests = []string{"not_null", "unique", "accepted_values", "relationships"}

// cdp also implements these tests of the dbt_utils package, since many dbt projects use them:
// dbt_utils.expression_is_true, dbt_utils.unique_combination_of_columns, dbt_utils.accepted_range.

// planTests lists the tests of enabled models and of sources, and the singular tests, in a
// fixed order (so duplicate IDs are numbered the same way every time).
func (c *compiler) planTests() {
	add := func(t *project.Test, column string, target *unit, src *project.SourceTable) {
		if t.Column != "" {
			column = t.Column
		}
		s := &testSpec{test: t, column: column, target: target, source: src, pos: t.Pos}
		var slug string
		if target != nil {
			slug = target.name
			if target.model != nil {
				slug = strings.ReplaceAll(target.model.ID, ".", "_")
			}
			s.testOf = target.id
			if s.pos.File == "" {
				s.pos = target.pos
			}
		} else {
			slug = src.Source + "_" + src.Name
			s.testOf = "source." + src.Source + "." + src.Name
			if s.pos.File == "" {
				s.pos = src.Pos
			}
		}
		id := t.Name + "_" + slug
		if column != "" {
			id += "_" + column
		}
		if t.CustomName != "" {
			id = t.CustomName
		}
		s.baseID = "test." + sanitizeID(id)
		c.tests = append(c.tests, s)
	}
	for _, u := range c.units {
		if u.disabled || u.failed {
			continue
		}
		tests, cols := []*project.Test(nil), []*project.Column(nil)
		if u.model != nil {
			tests, cols = u.model.Tests, u.model.Columns
		} else {
			tests, cols = u.seed.Tests, u.seed.Columns
		}
		for _, t := range tests {
			add(t, "", u, nil)
		}
		for _, col := range cols {
			for _, t := range col.Tests {
				add(t, col.Name, u, nil)
			}
		}
	}
	srcs := append([]*project.SourceTable(nil), c.p.Sources...)
	sort.SliceStable(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
	for _, s := range srcs {
		for _, t := range s.Tests {
			add(t, "", nil, s)
		}
		for _, col := range s.Columns {
			for _, t := range col.Tests {
				add(t, col.Name, nil, s)
			}
		}
	}
	singular := append([]*project.SingularTest(nil), c.p.Tests...)
	sort.SliceStable(singular, func(i, j int) bool { return singular[i].Path < singular[j].Path })
	for _, t := range singular {
		if isTestDefinition(t.SQL) {
			continue // a generic test definition, registered as a macro
		}
		name := t.Name
		if name == "" {
			name = strings.TrimSuffix(t.Path[strings.LastIndex(t.Path, "/")+1:], ".sql")
		}
		c.tests = append(c.tests, &testSpec{
			baseID:   "test." + sanitizeID(name),
			singular: t,
			pos:      config.Pos{File: t.Path, Line: 1},
		})
	}
}

var nonIDRe = regexp.MustCompile(`[^A-Za-z0-9_]+`)

func sanitizeID(s string) string { return strings.Trim(nonIDRe.ReplaceAllString(s, "_"), "_") }

// renderTest compiles one test into the query that returns its failing rows.
func (c *compiler) renderTest(w *worker, s *testSpec) {
	s.severity = "error"
	if s.singular != nil {
		c.renderSingular(w, s)
		return
	}
	st := &renderState{c: c, file: s.pos.File, final: true}
	if !c.testConfig(w, s, st) {
		return
	}
	var rel string
	if s.target != nil {
		if s.target.disabled {
			s.skip = true // dbt skips the tests of disabled models
			return
		}
		st.addRef(s.target)
		rel = s.target.rv.text
	} else {
		st.addSource(s.source.Source + "." + s.source.Name)
		rel = c.sourceRel(s.source).text
	}
	where := s.test.Where
	if where != "" {
		var ok bool
		if where, ok = c.renderInline(w, s, st, where, nil); !ok {
			return
		}
	}
	from := func(alias string) string {
		switch {
		case where != "" && alias == "":
			return "(SELECT * FROM " + rel + " WHERE " + where + ") AS filtered"
		case where != "":
			return "(SELECT * FROM " + rel + " WHERE " + where + ") AS " + alias
		case alias != "":
			return rel + " AS " + alias
		}
		return rel
	}
	column := s.column
	if column == "" {
		if v, ok := s.test.Args["column_name"].(string); ok {
			column = v
		}
	}
	needColumn := func() bool {
		if column == "" {
			c.errs.add(s.pos, "test %s needs a column: list it under a column's tests: (or data_tests:), or give column_name:", s.test.Name)
			s.failed = true
			return false
		}
		return true
	}
	col := c.quoteColumn(column)
	switch s.test.Name {
	case "not_null":
		if !needColumn() {
			return
		}
		s.sql = "SELECT * FROM " + from("") + " WHERE " + col + " IS NULL"
	case "unique":
		if !needColumn() {
			return
		}
		s.sql = "SELECT " + col + ", count(*) AS n FROM " + from("") + " WHERE " + col + " IS NOT NULL GROUP BY " + col + " HAVING count(*) > 1"
	case "accepted_values":
		if !needColumn() {
			return
		}
		values, ok := s.test.Args["values"].([]any)
		if !ok || len(values) == 0 {
			c.errs.add(s.pos, "test accepted_values needs values: a list of the allowed values, e.g. values: ['placed', 'shipped']")
			s.failed = true
			return
		}
		quote := true
		if q, ok := s.test.Args["quote"].(bool); ok {
			quote = q
		}
		lits := make([]string, len(values))
		for i, v := range values {
			if quote {
				lits[i] = c.dialect.QuoteString(fmt.Sprint(v))
			} else {
				lits[i] = fmt.Sprint(v)
			}
		}
		s.sql = "SELECT " + col + ", count(*) AS n FROM " + from("") + " WHERE " + col + " IS NOT NULL AND " + col +
			" NOT IN (" + strings.Join(lits, ", ") + ") GROUP BY " + col
	case "relationships":
		if !needColumn() {
			return
		}
		to, _ := s.test.Args["to"].(string)
		field, _ := s.test.Args["field"].(string)
		if to == "" || field == "" {
			c.errs.add(s.pos, "test relationships needs to: and field:, e.g. to: ref('customers') and field: id")
			s.failed = true
			return
		}
		if !strings.Contains(to, "(") {
			c.errs.add(s.pos, "test relationships: to: %s should be ref('%s') or source('...', '...')", to, to)
			s.failed = true
			return
		}
		parent, ok := c.renderInline(w, s, st, "{{ "+to+" }}", nil)
		if !ok {
			return
		}
		f := c.quoteColumn(field)
		s.sql = "SELECT child." + col + " FROM " + from("child") + " LEFT JOIN " + parent + " AS parent ON child." + col +
			" = parent." + f + " WHERE child." + col + " IS NOT NULL AND parent." + f + " IS NULL"
	case "dbt_utils.expression_is_true":
		expr, _ := s.test.Args["expression"].(string)
		if expr == "" {
			c.errs.add(s.pos, "test %s needs expression:, e.g. expression: \"amount >= 0\"", s.test.Name)
			s.failed = true
			return
		}
		if column != "" {
			expr = column + " " + expr
		}
		s.sql = "SELECT * FROM " + from("") + " WHERE NOT (" + expr + ")"
	case "dbt_utils.unique_combination_of_columns":
		cols, ok := stringList(s.test.Args["combination_of_columns"])
		if !ok || len(cols) == 0 {
			c.errs.add(s.pos, "test %s needs combination_of_columns: a list of columns", s.test.Name)
			s.failed = true
			return
		}
		if q, _ := s.test.Args["quote_columns"].(bool); q {
			for i, col := range cols {
				cols[i] = c.dialect.QuoteIdent(col)
			}
		}
		list := strings.Join(cols, ", ")
		s.sql = "SELECT " + list + ", count(*) AS n FROM " + from("") + " GROUP BY " + list + " HAVING count(*) > 1"
	case "dbt_utils.accepted_range":
		if !needColumn() {
			return
		}
		min, hasMin := s.test.Args["min_value"]
		max, hasMax := s.test.Args["max_value"]
		if !hasMin && !hasMax {
			c.errs.add(s.pos, "test %s needs min_value:, max_value: or both", s.test.Name)
			s.failed = true
			return
		}
		lo, hi := ">=", "<="
		if inc, ok := s.test.Args["inclusive"].(bool); ok && !inc {
			lo, hi = ">", "<"
		}
		var conds []string
		if hasMin {
			conds = append(conds, fmt.Sprintf("%s %s %v", col, lo, min))
		}
		if hasMax {
			conds = append(conds, fmt.Sprintf("%s %s %v", col, hi, max))
		}
		s.sql = "SELECT * FROM " + from("") + " WHERE NOT (" + strings.Join(conds, " AND ") + ")"
	default:
		if !c.renderCustomTest(w, s, st, rel, where, column) {
			return
		}
	}
	s.refs, s.sources = st.refs, st.sources
}

// renderCustomTest renders a test macro test_<name>(model, column_name, ...) with the test's
// arguments, like dbt's {% test name(model, column_name) %} blocks.
func (c *compiler) renderCustomTest(w *worker, s *testSpec, st *renderState, rel, where, column string) bool {
	name := s.test.Name
	m := c.macros["test_"+name]
	if pkg, short, ok := strings.Cut(name, "."); ok {
		// A package's test (dbt_utils.x): cdp installs no packages, but a project macro
		// test_x stands in for it.
		name = short
		if m = c.macros["test_"+short]; m == nil {
			c.errs.add(s.pos, "unknown test %q: cdp does not install dbt packages (%s); define {%% test %s(model, column_name) %%} under macros/ and it is used for %s too",
				s.test.Name, pkg, short, s.test.Name)
			s.failed = true
			return false
		}
	}
	if m == nil {
		msg := fmt.Sprintf("unknown test %q; built-in tests are %s; or define {%% test %s(model, column_name) %%} under macros/", name, strings.Join(builtinTests, ", "), name)
		var names []string
		names = append(names, builtinTests...)
		for n := range c.macros {
			if strings.HasPrefix(n, "test_") {
				names = append(names, strings.TrimPrefix(n, "test_"))
			}
		}
		if sug := suggest(name, names); sug != "" {
			msg = fmt.Sprintf("unknown test %q; did you mean %s? built-in tests are %s", name, sug, strings.Join(builtinTests, ", "))
		}
		c.errs.add(s.pos, "%s", msg)
		s.failed = true
		return false
	}
	params := map[string]bool{}
	for _, kw := range m.node.Kwargs {
		if k, ok := kw.Key.(*nodes.String); ok {
			params[k.Val] = true
		}
	}
	takes := func(arg string) bool { return params[arg] || m.node.KwArgsName != "" }
	model := &relValue{text: rel}
	if s.target != nil {
		*model = *s.target.rv
	} else {
		*model = *c.sourceRel(s.source)
	}
	if where != "" {
		model.text = "(SELECT * FROM " + rel + " WHERE " + where + ") AS filtered"
	}
	extra := map[string]any{"__cdp_test_model": model}
	args := []string{}
	if takes("model") {
		args = append(args, "model=__cdp_test_model")
	}
	if column != "" {
		if !takes("column_name") {
			c.errs.add(s.pos, "test %s is on column %s but its macro test_%s (%s:%d) takes no column_name argument", name, column, name, m.file, m.node.Location.Line)
			s.failed = true
			return false
		}
		extra["__cdp_test_column"] = column
		args = append(args, "column_name=__cdp_test_column")
	}
	for _, k := range sortedKeys(s.test.Args) {
		if k == "column_name" {
			continue
		}
		if !takes(k) || !identRe.MatchString(k) {
			c.errs.add(s.pos, "test %s has argument %s but its macro test_%s (%s:%d) does not take it", name, k, name, m.file, m.node.Location.Line)
			s.failed = true
			return false
		}
		extra["__cdp_test_arg_"+k] = s.test.Args[k]
		args = append(args, k+"=__cdp_test_arg_"+k)
	}
	out, ok := c.renderInline(w, s, st, "{{ test_"+name+"("+strings.Join(args, ", ")+") }}", extra)
	if !ok {
		return false
	}
	s.sql = trimTestSQL(out)
	return true
}

// renderInline renders a template written in a property file (a where:, a to:, a test macro
// call); errors point at the test.
func (c *compiler) renderInline(w *worker, s *testSpec, st *renderState, src string, extra map[string]any) (string, bool) {
	t, err := c.parseInline(src)
	if err == nil {
		var out string
		out, err = c.render(w, t, st, extra)
		if err == nil {
			return out, true
		}
	}
	if err.Pos.File == inlineFile || err.Pos.File == "" {
		err.Pos = s.pos
	}
	err.Msg = "test " + s.test.Name + ": " + err.Msg
	c.errs.addErr(err)
	s.failed = true
	return "", false
}

const inlineFile = "<inline>"

// parseInline parses a template written in a property file once per distinct text: the
// generated calls of a test macro are the same for every test with the same arguments.
func (c *compiler) parseInline(src string) (*template, *config.Error) {
	if t, ok := c.inline.Load(src); ok {
		return t.(*template), nil
	}
	t, err := c.parse(inlineFile, src)
	if err != nil {
		return nil, err
	}
	c.inline.Store(src, t)
	return t, nil
}

func (c *compiler) renderSingular(w *worker, s *testSpec) {
	t, perr := c.parse(s.singular.Path, s.singular.SQL)
	if perr != nil {
		c.errs.addErr(perr)
		s.failed = true
		return
	}
	cfg := project.Config{Enabled: true}
	st := &renderState{c: c, file: s.singular.Path, final: true, cfg: &cfg}
	out, rerr := c.render(w, t, st, nil)
	if rerr != nil {
		c.errs.addErr(rerr)
		s.failed = true
		return
	}
	if !cfg.Enabled {
		s.skip = true
		return
	}
	if sev, ok := cfg.Extra["severity"].(string); ok {
		s.severity = strings.ToLower(sev)
	}
	s.cfg = cfg
	s.sql = trimTestSQL(out)
	s.refs, s.sources = st.refs, st.sources
}

// testConfig applies a generic test's configs: severity (which may be Jinja), enabled, tags,
// meta and the rest (limit, warn_if, ...) as the node's config. It returns false when the test
// is disabled or broken.
func (c *compiler) testConfig(w *worker, s *testSpec, st *renderState) bool {
	t := s.test
	if t.Severity != "" {
		sev, ok := t.Severity, true
		if isJinja(sev) {
			if sev, ok = c.renderInline(w, s, st, sev, nil); !ok {
				return false
			}
		}
		sev = strings.ToLower(strings.TrimSpace(sev))
		if sev != "error" && sev != "warn" {
			c.errs.add(s.pos, "test %s: severity %q is not supported; use error or warn", t.Name, sev)
			s.failed = true
			return false
		}
		s.severity = sev
	}
	s.cfg = project.Config{Enabled: true}
	for _, k := range sortedKeys(t.Config) {
		v := t.Config[k]
		if str, ok := v.(string); ok && isJinja(str) {
			out, ok := c.renderInline(w, s, st, str, nil)
			if !ok {
				return false
			}
			v = out
			if k == "enabled" {
				b, ok := truth(out)
				if !ok {
					c.errs.add(s.pos, "test %s: enabled %s renders to %q; it must render to true or false", t.Name, str, out)
					s.failed = true
					return false
				}
				v = b
			}
		}
		if msg := applyConfig(&s.cfg, k, v); msg != "" {
			c.errs.add(s.pos, "test %s: config %s: %s", t.Name, k, msg)
			s.failed = true
			return false
		}
	}
	if !s.cfg.Enabled {
		s.skip = true
		return false
	}
	return true
}

func trimTestSQL(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "; \t\r\n")
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// quoteColumn quotes a plain column name; anything else (an expression) is used as written.
func (c *compiler) quoteColumn(name string) string {
	if identRe.MatchString(name) {
		return c.dialect.QuoteIdent(name)
	}
	return name
}

func (c *compiler) sourceRel(s *project.SourceTable) *relValue {
	schema := s.Schema
	if schema == "" {
		schema = s.Source
	}
	name := s.Identifier
	if name == "" {
		name = s.Name
	}
	text := c.dialect.Relation(warehouse.Relation{Schema: schema, Name: name})
	if s.Database != "" {
		text = c.dialect.QuoteIdent(s.Database) + "." + text // a BigQuery project, a DuckDB catalog
	}
	return &relValue{text: text, database: s.Database, schema: schema, identifier: name}
}

// addTestNodes turns the compiled tests into nodes. Tests with the same ID and the same SQL are
// one test; different tests with the same ID are numbered _2, _3, ... in plan order.
func (c *compiler) addTestNodes() {
	seen := map[string]bool{}  // baseID + SQL
	taken := map[string]bool{} // IDs given out
	count := map[string]int{}
	for _, s := range c.tests {
		if s.failed || s.skip {
			continue
		}
		if s.target != nil && (s.target.disabled || s.target.failed) {
			continue
		}
		if seen[s.baseID+"\x00"+s.sql] {
			continue
		}
		seen[s.baseID+"\x00"+s.sql] = true
		id := s.baseID
		for taken[id] {
			count[s.baseID]++
			id = fmt.Sprintf("%s_%d", s.baseID, count[s.baseID]+1)
		}
		taken[id] = true
		if _, taken := c.nodes[id]; taken {
			c.errs.add(s.pos, "test %s has the ID of another node; rename it", id)
			continue
		}
		n := &Node{
			ID:        id,
			Kind:      KindTest,
			Test:      s.test,
			TestOf:    s.testOf,
			SQL:       s.sql,
			DependsOn: unitIDs(s.refs),
			Sources:   sortedUnique(s.sources),
			Pos:       s.pos,
			Path:      s.pos.File,
			Severity:  s.severity,
			Config:    s.cfg,
		}
		n.Config.Materialized = "test"
		if s.singular != nil {
			n.SingularSQL = s.sql
			n.Path = s.singular.Path
		}
		c.nodes[id] = n
	}
}
