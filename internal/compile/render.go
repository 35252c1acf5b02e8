package compile

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	gonjaconfig "github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/nodes"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

// newGonjaConfig is Jinja's default configuration, as dbt uses it: no trim_blocks, no
// lstrip_blocks, a single trailing newline dropped, no autoescaping. Undefined names are errors
// (dbt reports "'x' is undefined" at compile time too).
func newGonjaConfig() *gonjaconfig.Config {
	cfg := gonjaconfig.New()
	cfg.StrictUndefined = true
	return cfg
}

// template is one parsed Jinja source: a model, a macro file, a test, a description.
type template struct {
	file   string
	tmpl   *exec.Template
	loader loaders.Loader
}

// srcLoader serves exactly one template's source; includes and imports are not supported
// because project macros are global, as in dbt.
type srcLoader struct{ id, src string }

func (l *srcLoader) Read(path string) (io.Reader, error) {
	if path == l.id {
		return strings.NewReader(l.src), nil
	}
	return nil, errNoInclude(path)
}

func (l *srcLoader) Resolve(path string) (string, error) {
	if path == l.id {
		return path, nil
	}
	return "", errNoInclude(path)
}

func (l *srcLoader) Inherit(string) (loaders.Loader, error) { return l, nil }

func errNoInclude(path string) error {
	return fmt.Errorf("cannot load %q: {%% include %%}, {%% import %%} and {%% extends %%} are not supported; macros under macros/ are callable from every model by name", path)
}

// parse parses a template once; renders reuse it.
func (c *compiler) parse(file, src string) (*template, *config.Error) {
	l := &srcLoader{id: file, src: src}
	t, err := exec.NewTemplate(file, c.gcfg, l, c.parseEnv)
	if err != nil {
		return nil, parseError(file, src, err)
	}
	return &template{file: file, tmpl: t, loader: l}, nil
}

// renderState is what the template functions (ref, source, config, ...) of one render share.
// One render runs on one goroutine, so it needs no locking.
type renderState struct {
	c    *compiler
	u    *unit  // the model being rendered; nil for tests and descriptions
	file string // the template's file, for errors
	// final is true once every model's config is known: ref() returns final relations.
	final       bool
	incremental bool            // is_incremental()
	cfg         *project.Config // what config() changes; nil where config() is ignored
	globals     *exec.Context   // the context macros run in

	refs    []*unit // ref() targets, in call order, without repeats
	sources []string
	err     *config.Error // first (innermost) error raised by a cdp function
	ret     *exec.Value   // pending return() value
	hasRet  bool
	depth   int // macro call depth
}

const stateKey = "__cdp_state"

func stateOf(e *exec.Evaluator) *renderState {
	v, _ := e.Environment.Context.Get(stateKey)
	st, _ := v.(*renderState)
	return st
}

// fail records err (the first one wins: it is the innermost) and returns the error value that
// stops gonja's rendering.
func (st *renderState) fail(format string, args ...any) *exec.Value {
	msg := fmt.Sprintf(format, args...)
	if st.err == nil {
		st.err = &config.Error{Msg: msg}
	}
	return exec.AsValue(errors.New(msg))
}

func (st *renderState) addRef(u *unit) {
	for _, r := range st.refs {
		if r == u {
			return
		}
	}
	st.refs = append(st.refs, u)
}

func (st *renderState) addSource(id string) {
	for _, s := range st.sources {
		if s == id {
			return
		}
	}
	st.sources = append(st.sources, id)
}

// worker is one rendering goroutine's private copy of the global context, so parallel renders
// never contend on gonja's context locks.
type worker struct {
	base *exec.Context
}

func (c *compiler) newWorker() *worker {
	base := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(builtins.GlobalVariables)
	for k, v := range c.globals {
		base.Set(k, v)
	}
	return &worker{base: base}
}

// render executes t with st; extra are per-render globals (this, model, test arguments).
func (c *compiler) render(w *worker, t *template, st *renderState, extra map[string]any) (string, *config.Error) {
	globals := w.base.Inherit()
	globals.Set(stateKey, st)
	for k, v := range extra {
		globals.Set(k, v)
	}
	st.globals = globals
	var b strings.Builder
	b.Grow(len(t.loader.(*srcLoader).src) + 256)
	env := &exec.Environment{
		Context:           globals.Inherit(),
		Filters:           builtins.Filters,
		Tests:             builtins.Tests,
		ControlStructures: builtins.ControlStructures,
		Methods:           builtins.Methods,
	}
	err := exec.NewRenderer(env, &b, c.gcfg, t.loader, t.tmpl).Execute()
	if st.err != nil {
		e := *st.err
		if e.Pos.File == "" {
			e.Pos.File = t.file
			if err != nil {
				e.Pos.Line = innerLine(err.Error())
			}
		}
		return "", &e
	}
	if st.hasRet {
		return "", &config.Error{Pos: config.Pos{File: t.file}, Msg: "return() can only be used inside a macro"}
	}
	if err != nil {
		return "", renderError(t.file, err, c.knownNames)
	}
	return b.String(), nil
}

// macroDef is one {% macro %} (or {% test %}) of a macro file.
type macroDef struct {
	name string
	file string
	node *nodes.Macro
	t    *template
}

// call runs the macro in the context of the render that calls it: it sees ref, this, var,
// config and the other macros, not the caller's local variables (Jinja's scoping).
func (c *compiler) macroFunc(m *macroDef) func(*exec.Evaluator, *exec.VarArgs) *exec.Value {
	return func(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
		st := stateOf(e)
		if st == nil {
			return exec.AsValue(fmt.Errorf("macro %s called outside a render", m.name))
		}
		if st.depth >= 64 {
			return st.fail("macro %s: calls nested more than 64 deep (infinite recursion?)", m.name)
		}
		r := &exec.Renderer{
			Config: c.gcfg,
			Environment: &exec.Environment{
				Context:           st.globals,
				Filters:           builtins.Filters,
				Tests:             builtins.Tests,
				ControlStructures: builtins.ControlStructures,
				Methods:           builtins.Methods,
			},
			Template: m.t.tmpl,
			RootNode: m.t.tmpl.Root(),
			Output:   io.Discard,
			Loader:   m.t.loader,
		}
		fn, err := exec.MacroNodeToFunc(m.node, r)
		if err != nil {
			return st.fail("macro %s: %v", m.name, err)
		}
		st.depth++
		v := fn(va)
		st.depth--
		if st.hasRet {
			rv := st.ret
			st.ret, st.hasRet = nil, false
			if rv == nil {
				return exec.AsValue(nil)
			}
			return rv
		}
		if v.IsError() {
			msg := v.Error()
			if st.err == nil && innerLine(msg) == 0 {
				// The call itself is wrong (arguments): report it where the macro is called.
				st.err = &config.Error{Msg: fmt.Sprintf("%s(): %s (macro %s is defined at %s:%d)",
					m.name, macroCallMessage(msg), m.name, m.file, m.node.Location.Line)}
			} else if st.err == nil {
				st.err = renderError(m.file, errors.New(msg), c.knownNames)
				st.err.Msg = "in macro " + m.name + ": " + st.err.Msg
			} else if st.err.Pos.File == "" {
				st.err.Pos = config.Pos{File: m.file, Line: innerLine(msg)}
				st.err.Msg = "in macro " + m.name + ": " + st.err.Msg
			}
		}
		return v
	}
}

var macroArgRe = regexp.MustCompile(`^macro '[^']*' (?:failed to evaluate '(?:[^']|'[^:])*': )?`)

// macroCallMessage is gonja's message about a macro call's arguments without its prefixes.
func macroCallMessage(msg string) string {
	return macroArgRe.ReplaceAllString(msg, "")
}

var (
	testBlockRe    = regexp.MustCompile(`\{%(-?)[ \t]*test[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(`)
	endTestBlockRe = regexp.MustCompile(`\{%(-?)[ \t]*endtest[ \t]*(-?)%\}`)
)

// rewriteTestBlocks turns dbt's {% test name(...) %}...{% endtest %} into
// {% macro test_name(...) %}...{% endmacro %}, keeping every line where it was.
func rewriteTestBlocks(src string) string {
	if !strings.Contains(src, "test") {
		return src
	}
	src = testBlockRe.ReplaceAllString(src, "{%${1} macro test_${2}(")
	return endTestBlockRe.ReplaceAllString(src, "{%${1} endmacro ${2}%}")
}

func isTestDefinition(src string) bool { return testBlockRe.MatchString(src) }

// reserved are the names of cdp's template functions; a macro may not take them.
var reserved = []string{"ref", "source", "config", "var", "env_var", "is_incremental", "this", "target",
	"doc", "log", "return", "exceptions", "execute", "model", "none"}

// parseMacros parses the macro files (and generic test definitions under tests/) and registers
// every macro by name.
func (c *compiler) parseMacros() {
	type file struct{ path, src string }
	var files []file
	for _, mf := range c.p.Macros {
		files = append(files, file{mf.Path, mf.Source})
	}
	for _, t := range c.p.Tests {
		if isTestDefinition(t.SQL) {
			files = append(files, file{t.Path, t.SQL})
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	c.macros = map[string]*macroDef{}
	for _, f := range files {
		t, perr := c.parse(f.path, rewriteTestBlocks(f.src))
		if perr != nil {
			c.errs.addErr(perr)
			continue
		}
		names := make([]string, 0, len(t.tmpl.Macros()))
		for name := range t.tmpl.Macros() {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			node := t.tmpl.Macros()[name]
			pos := config.Pos{File: f.path, Line: node.Location.Line}
			if prev, dup := c.macros[name]; dup {
				c.errs.add(pos, "macro %s is defined twice: here and in %s:%d; rename one of them", name, prev.file, prev.node.Location.Line)
				continue
			}
			for _, r := range reserved {
				if r == name {
					c.errs.add(pos, "macro %s has the name of a built-in template function; rename it", name)
				}
			}
			c.macros[name] = &macroDef{name: name, file: f.path, node: node, t: t}
		}
	}
}

// buildGlobals builds the names every render sees: Jinja's builtins, cdp's functions, macros.
func (c *compiler) buildGlobals() {
	g := map[string]any{}
	for name, m := range c.macros {
		g[name] = c.macroFunc(m)
	}
	g["none"] = nil
	g["ref"] = fnRef
	g["source"] = fnSource
	g["config"] = configFunc(fnConfig)
	g["var"] = fnVar
	g["env_var"] = fnEnvVar
	g["is_incremental"] = fnIsIncremental
	g["doc"] = fnDoc
	g["log"] = func(*exec.VarArgs) string { return "" }
	g["return"] = fnReturn
	g["execute"] = true
	g["exceptions"] = map[string]any{
		"raise_compiler_error": fnRaise,
		"warn":                 func(*exec.VarArgs) string { return "" },
	}
	g["target"] = c.targetMap()
	c.globals = g
	names := []string{"cycler", "dict", "joiner", "lipsum", "namespace", "range"}
	for k := range g {
		if !strings.HasPrefix(k, "_") && k != "none" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	c.names = names
}

func (c *compiler) knownNames() []string { return c.names }

func (c *compiler) targetMap() map[string]any {
	m := map[string]any{"schema": c.opts.Schema}
	if t := c.opts.Target; t != nil {
		m["name"] = t.Name
		m["type"] = t.Type
		m["threads"] = t.Threads
		if t.Type == "bigquery" {
			m["project"] = t.Project
			m["database"] = t.Project
			m["dataset"] = t.Dataset
			m["location"] = t.Location
		}
	}
	return m
}

// relValue is what ref(), source() and this return: it prints as the quoted relation (or the
// ephemeral CTE name) and has dbt's Relation attributes.
type relValue struct {
	text       string
	database   string
	schema     string
	identifier string
}

func (r *relValue) String() string { return r.text }

func (r *relValue) GetAttribute(name string) (*exec.Value, bool) {
	switch name {
	case "schema":
		return exec.AsValue(r.schema), true
	case "identifier", "name", "table":
		return exec.AsValue(r.identifier), true
	case "database":
		return exec.AsValue(r.database), true
	case "render":
		return exec.AsValue(func() string { return r.text }), true
	}
	return exec.AsValue(fmt.Errorf("%s: a relation has no attribute %q; it has schema, identifier (or name), database and render()", r.text, name)), false
}

func (r *relValue) GetItem(key any) (*exec.Value, bool) {
	if s, ok := key.(string); ok {
		return r.GetAttribute(s)
	}
	return exec.AsValue(nil), false
}

func fnRef(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	c := st.c
	var name string
	switch len(va.Args) {
	case 1:
		name = va.Args[0].String()
	case 2:
		pkg := va.Args[0].String()
		name = va.Args[1].String()
		if pkg != c.p.Name {
			return st.fail("ref('%s', '%s'): packages are not supported; refer to models of this project as ref('%s')", pkg, name, name)
		}
	default:
		return st.fail("ref() takes a model name: ref('orders') or ref('orders', v=2)")
	}
	version := ""
	for k, v := range va.KwArgs {
		switch k {
		case "v", "version":
			version = versionString(v)
		default:
			return st.fail("ref('%s'): unknown argument %s; ref takes v= (or version=)", name, k)
		}
	}
	call := refCall(name, version)
	u, msg := c.resolveRef(name, version)
	if u == nil {
		return st.fail("%s %s", call, msg)
	}
	if u == st.u {
		return st.fail("%s: a model cannot ref itself; use {{ this }} for its own relation", call)
	}
	if u.disabled {
		return st.fail("%s refers to a disabled model (%s sets enabled: false); enable it or remove the ref", call, u.path)
	}
	st.addRef(u)
	return exec.AsValue(u.relValue(st.final))
}

func refCall(name, version string) string {
	if version != "" {
		return fmt.Sprintf("ref('%s', v=%s)", name, version)
	}
	return fmt.Sprintf("ref('%s')", name)
}

func versionString(v *exec.Value) string {
	if v.IsInteger() {
		return fmt.Sprint(v.Integer())
	}
	if v.IsFloat() && v.Float() == float64(int(v.Float())) {
		return fmt.Sprint(int(v.Float()))
	}
	return v.String()
}

func fnSource(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	c := st.c
	if len(va.Args) != 2 || len(va.KwArgs) != 0 {
		return st.fail("source() takes a source and a table name: source('raw', 'events')")
	}
	src, table := va.Args[0].String(), va.Args[1].String()
	id := src + "." + table
	s, ok := c.sources[id]
	if !ok {
		return st.fail("source('%s', '%s') not found%s", src, table, c.sourceHint(src, table))
	}
	st.addSource(id)
	return exec.AsValue(c.sourceRel(s))
}

func (c *compiler) sourceHint(src, table string) string {
	var tables, ids []string
	for id, s := range c.sources {
		ids = append(ids, id)
		if s.Source == src {
			tables = append(tables, s.Name)
		}
	}
	if len(tables) > 0 {
		if t := suggest(table, tables); t != "" {
			return fmt.Sprintf("; did you mean source('%s', '%s')?", src, t)
		}
		sort.Strings(tables)
		return fmt.Sprintf("; source %s has tables %s", src, strings.Join(tables, ", "))
	}
	if id := suggest(src+"."+table, ids); id != "" {
		s := c.sources[id]
		return fmt.Sprintf("; did you mean source('%s', '%s')?", s.Source, s.Name)
	}
	return "; declare it under sources: in a models/*.yml file"
}

func fnVar(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if len(va.Args) < 1 || len(va.Args) > 2 {
		return st.fail("var() takes a name and an optional default: var('start_date', '2020-01-01')")
	}
	name := va.Args[0].String()
	if v, ok := st.c.vars[name]; ok {
		return exec.ToValue(v)
	}
	if len(va.Args) == 2 {
		return va.Args[1]
	}
	return st.fail("var('%s') is not defined; set it under vars: in cdp.yaml, pass --vars '{%s: ...}', or give a default: var('%s', ...)", name, name, name)
}

func fnEnvVar(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if len(va.Args) < 1 || len(va.Args) > 2 {
		return st.fail("env_var() takes a name and an optional default: env_var('SCHEMA', 'dev')")
	}
	name := va.Args[0].String()
	if v, ok := st.c.lookupEnv(name); ok {
		return exec.AsValue(v)
	}
	if len(va.Args) == 2 {
		return va.Args[1]
	}
	return st.fail("env_var('%s'): environment variable %s is not set; export it or give a default: env_var('%s', '...')", name, name, name)
}

func fnIsIncremental(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	return exec.AsValue(stateOf(e).incremental)
}

func fnDoc(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if len(va.Args) != 1 {
		return st.fail("doc() takes the name of a {%% docs %%} block")
	}
	name := va.Args[0].String()
	if d, ok := st.c.p.Docs[name]; ok {
		return exec.AsSafeValue(d)
	}
	names := make([]string, 0, len(st.c.p.Docs))
	for n := range st.c.p.Docs {
		names = append(names, n)
	}
	if s := suggest(name, names); s != "" {
		return st.fail("doc('%s') not found; did you mean doc('%s')?", name, s)
	}
	return st.fail("doc('%s') not found; define it in a .md file under models/: {%% docs %s %%}...{%% enddocs %%}", name, name)
}

var errReturn = errors.New("return")

func fnReturn(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if st.depth == 0 {
		return st.fail("return() can only be used inside a macro")
	}
	st.hasRet = true
	st.ret = nil
	if len(va.Args) > 0 {
		st.ret = va.Args[0]
	}
	return exec.AsValue(errReturn)
}

func fnRaise(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	msg := "compiler error"
	if len(va.Args) > 0 {
		msg = va.Args[0].String()
	}
	return st.fail("%s", msg)
}

// configFunc is config(): callable, with config.get and config.require as in dbt.
type configFunc func(*exec.Evaluator, *exec.VarArgs) *exec.Value

func (f configFunc) GetAttribute(name string) (*exec.Value, bool) {
	switch name {
	case "get":
		return exec.AsValue(fnConfigGet), true
	case "require":
		return exec.AsValue(fnConfigRequire), true
	}
	return exec.AsValue(nil), false
}

func (f configFunc) GetItem(key any) (*exec.Value, bool) {
	if s, ok := key.(string); ok {
		return f.GetAttribute(s)
	}
	return exec.AsValue(nil), false
}

func fnConfig(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	kw := map[string]any{}
	if len(va.Args) == 1 {
		m, ok := goValue(va.Args[0]).(map[string]any)
		if !ok {
			return st.fail("config() takes keyword arguments: config(materialized='table')")
		}
		for k, v := range m {
			kw[k] = v
		}
	} else if len(va.Args) > 1 {
		return st.fail("config() takes keyword arguments: config(materialized='table')")
	}
	for k, v := range va.KwArgs {
		kw[k] = goValue(v)
	}
	if st.cfg == nil {
		return exec.AsValue("")
	}
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if msg := applyConfig(st.cfg, k, kw[k]); msg != "" {
			return st.fail("config(%s=...): %s", k, msg)
		}
	}
	return exec.AsValue("")
}

func fnConfigGet(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if len(va.Args) < 1 || len(va.Args) > 2 {
		return st.fail("config.get() takes a key and an optional default")
	}
	key := va.Args[0].String()
	if st.cfg != nil {
		if v, ok := configMap(*st.cfg)[key]; ok {
			return exec.ToValue(v)
		}
	}
	if len(va.Args) == 2 {
		return va.Args[1]
	}
	if d, ok := va.KwArgs["default"]; ok {
		return d
	}
	return exec.AsValue(nil)
}

func fnConfigRequire(e *exec.Evaluator, va *exec.VarArgs) *exec.Value {
	st := stateOf(e)
	if len(va.Args) != 1 {
		return st.fail("config.require() takes a key")
	}
	key := va.Args[0].String()
	if st.cfg != nil {
		if v, ok := configMap(*st.cfg)[key]; ok {
			return exec.ToValue(v)
		}
	}
	return st.fail("config.require('%s'): %s is not set; set it with {{ config(%s=...) }} or in the model's yml config", key, key, key)
}

// goValue converts a template value to plain Go data (string, int, float64, bool, []any,
// map[string]any, nil).
func goValue(v *exec.Value) any {
	if v == nil || v.IsNil() {
		return nil
	}
	if r, ok := v.Interface().(*relValue); ok {
		return r.text
	}
	if v.IsString() {
		return v.String()
	}
	out := v.ToGoSimpleType(false)
	if err, ok := out.(error); ok {
		return err.Error()
	}
	return out
}
