package config

import (
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Reader reads YAML files that other packages own (dbt property files, dbt_project.yml) with
// the checks and messages Parse uses for cdp.yaml: syntax errors at their line, duplicate keys,
// "must be a mapping" and "did you mean" for unknown keys. It collects every problem; Err
// returns them sorted by file and line.
//
// Strings are read as written: ${VAR} is not expanded, since dbt files use {{ env_var() }},
// which the compile step renders.
type Reader struct{ p *parser }

// NewReader returns a Reader with no problems recorded.
func NewReader() *Reader { return &Reader{p: &parser{raw: true}} }

// Pair is one key: value entry of a mapping, with aliases resolved.
type Pair struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Parse parses one file and returns its top node: nil, true for an empty file; nil, false after
// recording a syntax error at yaml's line.
func (r *Reader) Parse(file string, data []byte) (*yaml.Node, bool) { return r.p.readYAML(file, data) }

// Mapping returns the entries of n in file order; null counts as empty. where is the dotted key
// path of n, for messages. When known is not nil, other keys are reported with the closest
// known key. Duplicate keys are reported; merge keys (<<: *anchor) are honoured.
func (r *Reader) Mapping(file, where string, n *yaml.Node, known []string) ([]Pair, bool) {
	pairs, ok := r.p.mapping(file, where, n, known)
	out := make([]Pair, len(pairs))
	for i, kv := range pairs {
		out[i] = Pair{Key: kv.key, KeyNode: kv.keyNode, Value: kv.val}
	}
	return out, ok
}

// Str reads a single value; null reads as "".
func (r *Reader) Str(file, where string, n *yaml.Node) (string, bool) { return r.p.str(file, where, n) }

// Int reads a whole number; null reads as 0.
func (r *Reader) Int(file, where string, n *yaml.Node) (int, bool) { return r.p.int(file, where, n) }

// Bool reads true or false; null reads as false.
func (r *Reader) Bool(file, where string, n *yaml.Node) (bool, bool) { return r.p.bool(file, where, n) }

// StrList reads a list of single values; null reads as an empty list.
func (r *Reader) StrList(file, where string, n *yaml.Node) ([]string, bool) {
	return r.p.strList(file, where, n)
}

// Value converts any YAML value to plain Go data: map[string]any, []any, string, int, float64,
// bool or nil.
func (r *Reader) Value(file, where string, n *yaml.Node) any { return r.p.value(file, where, n) }

// Errorf records a problem at n's line in file.
func (r *Reader) Errorf(file string, n *yaml.Node, format string, args ...any) {
	r.p.errorf(file, n, format, args...)
}

// Add records a problem at pos.
func (r *Reader) Add(pos Pos, format string, args ...any) { r.p.errs.add(pos, format, args...) }

// Len is the number of problems recorded so far.
func (r *Reader) Len() int { return len(r.p.errs) }

// Err returns nil when no problem was recorded, else Errors sorted by file and line.
func (r *Reader) Err() error { return r.p.errs.err() }

// Resolve follows aliases (*name) to the node they point to.
func Resolve(n *yaml.Node) *yaml.Node { return resolve(n) }

// IsNull reports whether n is absent, empty or an explicit null.
func IsNull(n *yaml.Node) bool { return isNull(n) }

// Describe names what a node is, for "must be X, got Y" messages: "a mapping", "a list" or the
// quoted scalar.
func Describe(n *yaml.Node) string { return describe(n) }

// Suggest returns the candidate closest to word, or "" when none is close enough to be a typo
// of it. Case and _ versus - are ignored.
func Suggest(word string, candidates []string) string { return suggest(word, candidates) }

// EditDistance is the optimal string alignment distance between a and b.
func EditDistance(a, b string) int { return editDistance(a, b) }

// ExpandEnv replaces ${VAR} and ${VAR:-default} in s as cdp.yaml does ($$ is a literal $), for
// files read outside this package (syncs) that expand their values later, when they run.
func ExpandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	return expand(s, lookup)
}

// IsIdent reports whether s is a SQL-safe identifier: [A-Za-z_][A-Za-z0-9_]*.
func IsIdent(s string) bool { return isIdent(s) }

// Sort orders es by file and line, keeping the order of problems at the same place.
func (es Errors) Sort() { es.err() }

// DBTFolder describes a folder that has a dbt_project.yml and no cdp.yaml, as read by the
// package that owns dbt_project.yml.
type DBTFolder struct {
	Name       string   // the dbt project's name
	ModelPaths []string // slash-separated folders inside the project
	SeedPaths  []string
	MacroPaths []string
}

// dbtProjectFile is where a synthesized project's settings come from, for Pos values.
const dbtProjectFile = "dbt_project.yml"

// ParseDBTFolder returns the Project of a dbt folder with no cdp.yaml: the folder's name and
// paths, one `dev` DuckDB target at <dir>/.cdp/warehouse.duckdb, no vars, and the loadable
// sources declared under meta.cdp in the model paths. Problems are returned as Errors.
func ParseDBTFolder(fsys fs.FS, dir string, f DBTFolder, opts Options) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &parser{fsys: fsys, dir: abs, lookupEnv: opts.LookupEnv, contracts: map[string]*Contract{}}
	if p.lookupEnv == nil {
		p.lookupEnv = os.LookupEnv
	}
	orDefault := func(paths []string, def string) []string {
		if len(paths) == 0 {
			return []string{def}
		}
		return paths
	}
	proj := &Project{
		Dir:           abs,
		Name:          f.Name,
		DefaultTarget: "dev",
		Targets: map[string]*Target{"dev": {
			Name:    "dev",
			Type:    "duckdb",
			Path:    filepath.Join(abs, ".cdp", "warehouse.duckdb"),
			Threads: 4,
			Pos:     Pos{File: dbtProjectFile},
		}},
		Vars:       map[string]any{},
		Sources:    map[string]*Source{},
		ModelPaths: orDefault(f.ModelPaths, "models"),
		SeedPaths:  orDefault(f.SeedPaths, "seeds"),
		MacroPaths: orDefault(f.MacroPaths, "macros"),
		SyncPaths:  []string{"syncs"},
	}
	p.modelSources(proj)
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	for _, src := range proj.Sources {
		if src.Format == "segment" {
			addSegmentDefaults(src)
		}
	}
	if err := proj.Validate(); err != nil {
		return nil, err
	}
	return proj, nil
}
