package compile

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nikolalohinski/gonja/v2/builtins"
	gonjaconfig "github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Options are the inputs of a compile besides the project.
type Options struct {
	Target *config.Target // target.name / target.type / target.schema in templates
	// Schema is the base schema of models (DuckDB: "main"; BigQuery: the dataset). A model with
	// config schema "x" goes to "<Schema>_x", as dbt's default generate_schema_name does.
	Schema  string
	Dialect warehouse.Dialect // quoting; nil quotes as ANSI SQL ("schema"."name")
	// Vars overlay the project's vars (p.Vars), as --vars does.
	Vars      map[string]any
	LookupEnv func(string) (string, bool) // nil = os.LookupEnv
}

// Result is a compiled project.
type Result struct {
	// Nodes are the enabled models (ephemeral included) as kind model, the seeds as kind seed
	// and the data tests as kind test, by node ID.
	Nodes map[string]*Node
	// Order is a topological order of all node IDs: every node comes after the nodes it reads.
	// Among nodes that do not depend on each other the order is deterministic.
	Order []string
	// Parents are the edges of the DAG: node ID -> the node IDs it reads (= Node.DependsOn).
	Parents map[string][]string
}

// quoter is the part of warehouse.Dialect compile uses.
type quoter interface {
	QuoteIdent(string) string
	QuoteString(string) string
	Relation(warehouse.Relation) string
}

type ansi struct{}

func (ansi) QuoteIdent(s string) string  { return warehouse.QuoteStandard(s) }
func (ansi) QuoteString(s string) string { return warehouse.QuoteStringStandard(s) }
func (ansi) Relation(r warehouse.Relation) string {
	if r.Schema == "" {
		return warehouse.QuoteStandard(r.Name)
	}
	return warehouse.QuoteStandard(r.Schema) + "." + warehouse.QuoteStandard(r.Name)
}

// compiler is the state of one Compile call.
type compiler struct {
	p         *project.Project
	opts      Options
	dialect   quoter
	vars      map[string]any
	lookupEnv func(string) (string, bool)
	errs      errorList

	gcfg     *gonjaconfig.Config
	parseEnv *exec.Environment
	macros   map[string]*macroDef
	globals  map[string]any
	names    []string

	units   []*unit          // models (by ID) then seeds (by name)
	byID    map[string]*unit // by node ID
	byName  map[string][]*unit
	sources map[string]*project.SourceTable
	tests   []*testSpec
	inline  sync.Map // src -> *template, see parseInline
	nodes   map[string]*Node
	order   []string
}

// unit is a model version or a seed: something ref() resolves to.
type unit struct {
	id      string // node ID
	kind    string
	name    string
	version string
	model   *project.Model
	seed    *project.Seed
	path    string
	pos     config.Pos

	provCfg  project.Config // the yml config: what templates see before config() calls are known
	provKey  relKey
	provRV   *relValue
	cfg      project.Config // after the template's config() calls
	key      relKey
	rv       *relValue
	disabled bool
	failed   bool

	t        *template
	sql1     string // pass-1 render, with provisional relations
	refs1    []*unit
	sources1 []string

	raw, rawInc string // final renders, before ephemeral CTEs are injected
	refs        []*unit
	sources     []string
	desc        string
	cols        []Column
}

// relKey identifies what a ref() to a unit renders to.
type relKey struct {
	ephemeral bool
	schema    string
	name      string
}

const ephemeralPrefix = "__cdp_ephemeral__"

func (c *compiler) keyFor(u *unit, cfg project.Config) relKey {
	base := u.name
	if u.version != "" {
		base += "_v" + u.version
	}
	if u.kind == KindModel && cfg.Materialized == "ephemeral" {
		return relKey{ephemeral: true, name: ephemeralPrefix + base}
	}
	name := base
	if cfg.Alias != "" {
		name = cfg.Alias
	}
	schema := c.opts.Schema
	if cfg.Schema != "" {
		if schema != "" {
			schema += "_" + cfg.Schema
		} else {
			schema = cfg.Schema
		}
	}
	return relKey{schema: schema, name: name}
}

func (c *compiler) relValueOf(k relKey) *relValue {
	if k.ephemeral {
		return &relValue{text: k.name, identifier: k.name}
	}
	return &relValue{
		text:       c.dialect.Relation(warehouse.Relation{Schema: k.schema, Name: k.name}),
		schema:     k.schema,
		identifier: k.name,
	}
}

func (u *unit) relValue(final bool) *relValue {
	if final {
		return u.rv
	}
	return u.provRV
}

// Compile renders every enabled model, seed and test of p, resolves their dependencies,
// orders them and fingerprints them. It reports every problem at once as config.Errors, each
// with file:line and a hint.
func Compile(p *project.Project, opts Options) (*Result, error) {
	c := &compiler{p: p, opts: opts, gcfg: newGonjaConfig()}
	c.dialect = ansi{}
	if opts.Dialect != nil {
		c.dialect = opts.Dialect
	}
	c.lookupEnv = opts.LookupEnv
	if c.lookupEnv == nil {
		c.lookupEnv = os.LookupEnv
	}
	c.vars = make(map[string]any, len(p.Vars)+len(opts.Vars))
	for k, v := range p.Vars {
		c.vars[k] = v
	}
	for k, v := range opts.Vars {
		c.vars[k] = v
	}
	c.parseEnv = &exec.Environment{
		Context:           exec.EmptyContext(),
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}

	c.index()
	c.parseMacros()
	c.buildGlobals()
	c.resolveConfigExprs()
	c.pass1()
	c.settle()
	c.planTests()
	c.pass2()
	c.buildNodes()
	if !c.sortNodes() {
		return nil, c.errs.err()
	}
	c.injectEphemerals()
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	c.fingerprint()
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	parents := make(map[string][]string, len(c.nodes))
	for id, n := range c.nodes {
		parents[id] = n.DependsOn
	}
	return &Result{Nodes: c.nodes, Order: c.order, Parents: parents}, nil
}

// index builds the units and the name and source indexes.
func (c *compiler) index() {
	c.byID = map[string]*unit{}
	c.byName = map[string][]*unit{}
	c.sources = map[string]*project.SourceTable{}
	models := append([]*project.Model(nil), c.p.Models...)
	sort.SliceStable(models, func(i, j int) bool { return models[i].ID < models[j].ID })
	for _, m := range models {
		u := &unit{id: "model." + m.ID, kind: KindModel, name: m.Name, version: m.Version, model: m, path: m.Path, pos: m.Pos}
		if u.name == "" {
			u.name = m.ID
		}
		if prev, dup := c.byID[u.id]; dup {
			c.errs.add(config.Pos{File: m.Path, Line: 1}, "model %s is defined twice: %s and %s; rename one of them", m.ID, prev.path, m.Path)
			continue
		}
		c.addUnit(u, m.Config)
	}
	seeds := append([]*project.Seed(nil), c.p.Seeds...)
	sort.SliceStable(seeds, func(i, j int) bool { return seeds[i].Name < seeds[j].Name })
	for _, s := range seeds {
		u := &unit{id: "seed." + s.Name, kind: KindSeed, name: s.Name, seed: s, path: s.Path, pos: s.Pos}
		if u.pos.File == "" {
			u.pos = config.Pos{File: s.Path}
		}
		if others := c.byName[s.Name]; len(others) > 0 && others[0].kind == KindModel {
			c.errs.add(u.pos, "seed %s has the name of model %s (%s); ref() could not tell them apart: rename one of them", s.Name, others[0].name, others[0].path)
			continue
		}
		if _, dup := c.byID[u.id]; dup {
			c.errs.add(u.pos, "seed %s is defined twice", s.Name)
			continue
		}
		c.addUnit(u, s.Config)
	}
	for _, s := range c.p.Sources {
		c.sources[s.Source+"."+s.Name] = s
	}
}

func (c *compiler) addUnit(u *unit, cfg project.Config) {
	u.provCfg = cloneConfig(cfg)
	if u.kind == KindModel {
		u.provCfg = normalizeConfig(u.provCfg)
	} else if u.provCfg.Materialized == "" {
		u.provCfg.Materialized = "seed"
	}
	u.disabled = !cfg.Enabled
	u.provKey = c.keyFor(u, u.provCfg)
	u.provRV = c.relValueOf(u.provKey)
	u.cfg, u.key, u.rv = u.provCfg, u.provKey, u.provRV
	c.units = append(c.units, u)
	c.byID[u.id] = u
	c.byName[u.name] = append(c.byName[u.name], u)
}

// resolveRef finds the unit ref(name[, v=version]) names; when there is none it says why.
func (c *compiler) resolveRef(name, version string) (*unit, string) {
	us := c.byName[name]
	if len(us) == 0 {
		var names []string
		for n, us := range c.byName {
			for _, u := range us {
				if !u.disabled {
					names = append(names, n)
					break
				}
			}
		}
		if s := suggest(name, names); s != "" {
			return nil, "not found; did you mean " + s + "?"
		}
		for _, s := range c.p.Sources {
			if s.Name == name {
				return nil, fmt.Sprintf("not found; %s is a source table: use source('%s', '%s')", name, s.Source, s.Name)
			}
		}
		return nil, "not found: no model or seed is named " + name
	}
	if version == "" {
		if len(us) == 1 {
			return us[0], ""
		}
		var best *unit
		for _, u := range us {
			if u.model != nil && u.model.Latest {
				return u, ""
			}
			if best == nil || versionLess(best.version, u.version) {
				best = u
			}
		}
		return best, ""
	}
	var versions []string
	for _, u := range us {
		if u.version == version {
			return u, ""
		}
		if u.version != "" {
			versions = append(versions, u.version)
		}
	}
	if len(versions) == 0 {
		return nil, fmt.Sprintf("not found: model %s is not versioned; use ref('%s')", name, name)
	}
	sort.Slice(versions, func(i, j int) bool { return versionLess(versions[i], versions[j]) })
	return nil, fmt.Sprintf("not found: model %s has versions %s", name, strings.Join(versions, ", "))
}

func versionLess(a, b string) bool {
	na, ea := strconv.ParseFloat(a, 64)
	nb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil && na != nb {
		return na < nb
	}
	return a < b
}

// parallel runs fn(w, i) for i in [0, n) on GOMAXPROCS workers, each with its own render
// context. A panic in one job becomes an error of that job instead of killing the process.
func (c *compiler) parallel(n int, file func(i int) string, fn func(w *worker, i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := c.newWorker()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							c.errs.add(config.Pos{File: file(i)}, "cannot render this template: the Jinja engine failed with %q; simplify the construct or report it as a cdp bug", fmt.Sprint(r))
						}
					}()
					fn(w, i)
				}()
			}
		}()
	}
	wg.Wait()
}

// pass1 parses and renders every enabled model once, with ref() returning the relations the
// yml configs give (its own config() calls are not known yet): this records the dependencies
// and the config() calls. Most renders are final already; pass2 redoes the others.
func (c *compiler) pass1() {
	var todo []*unit
	for _, u := range c.units {
		if u.kind == KindModel && !u.disabled {
			todo = append(todo, u)
		}
	}
	c.parallel(len(todo), func(i int) string { return todo[i].path }, func(w *worker, i int) {
		u := todo[i]
		t, perr := c.parse(u.path, u.model.SQL)
		if perr != nil {
			c.errs.addErr(perr)
			u.failed = true
			return
		}
		u.t = t
		cfg := cloneConfig(u.provCfg)
		st := &renderState{c: c, u: u, file: u.path, cfg: &cfg}
		out, rerr := c.render(w, t, st, c.modelGlobals(u, false))
		if rerr != nil {
			c.errs.addErr(rerr)
			u.failed = true
			return
		}
		u.sql1, u.refs1, u.sources1 = out, st.refs, st.sources
		u.cfg = normalizeConfig(cfg)
		c.renderDocs(w, u)
	})
}

func (c *compiler) modelGlobals(u *unit, final bool) map[string]any {
	return map[string]any{
		"this": u.relValue(final),
		"model": map[string]any{
			"name":               u.name,
			"unique_id":          u.id,
			"path":               u.path,
			"original_file_path": u.path,
			"version":            u.version,
		},
	}
}

// renderDocs renders the descriptions ({{ doc('...') }}) of a model or seed and its columns.
func (c *compiler) renderDocs(w *worker, u *unit) {
	desc, cols, pos := "", []*project.Column(nil), u.pos
	if u.model != nil {
		desc, cols = u.model.Description, u.model.Columns
	} else {
		desc, cols = u.seed.Description, u.seed.Columns
	}
	render := func(s string, pos config.Pos) string {
		if !isJinja(s) {
			return s
		}
		t, perr := c.parse(pos.File, s)
		if perr == nil {
			st := &renderState{c: c, file: pos.File}
			var out string
			out, perr = c.render(w, t, st, nil)
			if perr == nil {
				return out
			}
		}
		perr.Pos = pos
		perr.Msg = "description: " + perr.Msg
		c.errs.addErr(perr)
		return s
	}
	u.desc = render(desc, pos)
	for _, col := range cols {
		cpos := col.Pos
		if cpos.File == "" {
			cpos = pos
		}
		u.cols = append(u.cols, Column{Name: col.Name, DataType: col.DataType, Description: render(col.Description, cpos)})
	}
}

// settle applies what pass 1 learnt: models disabled by their own config(enabled=false), and
// the final relation of every model.
func (c *compiler) settle() {
	for _, u := range c.units {
		if u.kind != KindModel || u.disabled || u.failed {
			continue
		}
		if !u.cfg.Enabled {
			u.disabled = true
		}
		u.key = c.keyFor(u, u.cfg)
		if u.key == u.provKey {
			u.rv = u.provRV
		} else {
			u.rv = c.relValueOf(u.key)
		}
	}
}

// pass2 finishes the models: a pass-1 render is final when every relation it was handed
// (its refs and this) is the same as the final one; otherwise the model is rendered again.
// Incremental models are rendered once more with is_incremental() true. Tests render here too.
func (c *compiler) pass2() {
	var jobs []func(w *worker)
	var files []string
	for _, u := range c.units {
		if u.kind != KindModel || u.disabled || u.failed {
			continue
		}
		u := u
		rerender := u.key != u.provKey
		for _, r := range u.refs1 {
			if r.key != r.provKey || r.disabled {
				rerender = true
			}
		}
		incremental := u.cfg.Materialized == "incremental"
		if !rerender {
			u.raw, u.refs, u.sources = u.sql1, u.refs1, u.sources1
			if !incremental {
				continue
			}
		}
		jobs = append(jobs, func(w *worker) { c.finishModel(w, u, rerender, incremental) })
		files = append(files, u.path)
	}
	for _, t := range c.tests {
		t := t
		jobs = append(jobs, func(w *worker) { c.renderTest(w, t) })
		files = append(files, t.pos.File)
	}
	for _, u := range c.units {
		if u.kind == KindSeed && !u.disabled {
			u := u
			jobs = append(jobs, func(w *worker) { c.renderDocs(w, u) })
			files = append(files, u.path)
		}
	}
	c.parallel(len(jobs), func(i int) string { return files[i] }, func(w *worker, i int) { jobs[i](w) })
}

func (c *compiler) finishModel(w *worker, u *unit, rerender, incremental bool) {
	render := func(inc bool) (string, []*unit, []string, bool) {
		cfg := cloneConfig(u.provCfg)
		st := &renderState{c: c, u: u, file: u.path, final: true, incremental: inc, cfg: &cfg}
		out, err := c.render(w, u.t, st, c.modelGlobals(u, true))
		if err != nil {
			c.errs.addErr(err)
			u.failed = true
			return "", nil, nil, false
		}
		return out, st.refs, st.sources, true
	}
	var refs []*unit
	var sources []string
	if rerender {
		out, r, s, ok := render(false)
		if !ok {
			return
		}
		u.raw, refs, sources = out, r, s
	} else {
		refs, sources = u.refs1, u.sources1
	}
	if incremental {
		out, r, s, ok := render(true)
		if !ok {
			return
		}
		u.rawInc = out
		for _, x := range r {
			if !containsUnit(refs, x) {
				refs = append(refs, x)
			}
		}
		for _, x := range s {
			if !containsString(sources, x) {
				sources = append(sources, x)
			}
		}
	}
	u.refs, u.sources = refs, sources
}

func containsUnit(us []*unit, u *unit) bool {
	for _, x := range us {
		if x == u {
			return true
		}
	}
	return false
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// buildNodes turns the units and tests into Nodes.
func (c *compiler) buildNodes() {
	c.nodes = map[string]*Node{}
	for _, u := range c.units {
		if u.disabled || u.failed {
			continue
		}
		n := &Node{ID: u.id, Kind: u.kind, Pos: u.pos, Path: u.path, Config: u.cfg}
		switch u.kind {
		case KindModel:
			n.Model = u.model
			n.Description = u.desc
			n.Columns = u.cols
			if !u.key.ephemeral {
				n.Relation = warehouse.Relation{Schema: u.key.schema, Name: u.key.name}
			}
			n.DependsOn = unitIDs(u.refs)
			n.Sources = sortedUnique(u.sources)
		case KindSeed:
			n.Seed = u.seed
			n.Description, n.Columns = u.desc, u.cols
			n.DependsOn, n.Sources = []string{}, []string{}
			n.Relation = warehouse.Relation{Schema: u.key.schema, Name: u.key.name}
		}
		c.nodes[n.ID] = n
	}
	c.addTestNodes()
}

func unitIDs(us []*unit) []string {
	ids := make([]string, 0, len(us))
	for _, u := range us {
		ids = append(ids, u.id)
	}
	return sortedUnique(ids)
}

func sortedUnique(ss []string) []string {
	out := append([]string{}, ss...)
	sort.Strings(out)
	j := 0
	for i, s := range out {
		if i > 0 && s == out[j-1] {
			continue
		}
		out[j] = s
		j++
	}
	return out[:j]
}
