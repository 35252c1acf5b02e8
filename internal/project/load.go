package project

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
)

// Load reads the project in dir from disk. See Parse.
func Load(dir string, cfg *config.Project) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project directory %s: %w", dir, err)
	}
	return Parse(os.DirFS(abs), abs, cfg)
}

// Parse reads a project from fsys, which is rooted at the project directory dir: its
// dbt_project.yml (when there is one), models, property files, sources, seeds, macros, singular
// tests and docs blocks. SQL and descriptions are kept as written; the compile step renders them.
//
// cfg is the parsed cdp.yaml; when nil, Parse reads it with config.Parse, or, in a folder that
// has a dbt_project.yml and no cdp.yaml, builds one: the dbt project's name and a `dev` DuckDB
// target at <dir>/.cdp/warehouse.duckdb. A folder with neither file gives an error matching
// config.ErrNoProject.
//
// Every problem found is returned at once as config.Errors, each with file:line and a fix.
func Parse(fsys fs.FS, dir string, cfg *config.Project) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project directory %s: %w", dir, err)
	}
	l := &loader{
		fsys:       fsys,
		r:          config.NewReader(),
		sql:        map[string]*sqlFile{},
		props:      map[string]*modelProps{},
		seeds:      map[string]*Seed{},
		seedProps:  map[string]*seedProps{},
		sources:    map[string]config.Pos{},
		tables:     map[string]*SourceTable{},
		docs:       map[string]config.Pos{},
		testMacros: map[string]bool{},
		singular:   map[string]*SingularTest{},
		seenYAML:   map[string]bool{},
		existing:   map[string][]string{},
		proj:       &Project{Dir: abs, Vars: map[string]any{}, Docs: map[string]string{}},
	}
	dbt, err := l.dbtProject()
	if err != nil {
		return nil, err
	}
	var cfgErrs config.Errors
	if cfg == nil {
		cfg, err = config.Parse(fsys, abs)
		if errors.Is(err, config.ErrNoProject) && dbt != nil {
			if dbt.name == "" {
				// Reported by dbtProject; ParseDBTFolder would only add a second message.
				return nil, l.r.Err()
			}
			cfg, err = config.ParseDBTFolder(fsys, abs, config.DBTFolder{
				Name:       dbt.name,
				ModelPaths: dbt.paths["model-paths"],
				SeedPaths:  dbt.paths["seed-paths"],
				MacroPaths: dbt.paths["macro-paths"],
			}, config.Options{})
		}
		if err != nil && !errors.As(err, &cfgErrs) {
			return nil, err
		}
		// With errors in cdp.yaml, keep reading with default paths so that every problem in
		// the project is reported at once.
	}
	l.setup(cfg, dbt)
	l.read()
	l.assemble()
	l.finish()

	var all config.Errors
	if l.r.Len() > 0 {
		errors.As(l.r.Err(), &all)
	}
	if err := mergeErrors(cfgErrs, all); err != nil {
		return nil, err
	}
	l.proj.Warnings.Sort()
	return l.proj, nil
}

// mergeErrors joins the problems config and this package found, without the ones both report
// (a YAML syntax error in a property file), sorted by file and line.
func mergeErrors(a, b config.Errors) error {
	type key struct {
		pos config.Pos
		msg string
	}
	seen := map[key]bool{}
	var out config.Errors
	for _, e := range slices.Concat(a, b) {
		k := key{e.Pos, e.Msg}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil
	}
	out.Sort()
	return out
}

// loader holds what one Parse call shares.
type loader struct {
	fsys fs.FS
	r    *config.Reader
	proj *Project
	dbt  *dbtProject // nil without dbt_project.yml

	sql        map[string]*sqlFile    // model files by base name
	props      map[string]*modelProps // models: entries by name
	propOrder  []*modelProps
	seeds      map[string]*Seed        // seeds by name
	seedProps  map[string]*seedProps   // seeds: entries by name
	sources    map[string]config.Pos   // source names seen, for duplicates
	tables     map[string]*SourceTable // source tables by ID
	docs       map[string]config.Pos   // where each docs block is
	docRefs    []docRef                // doc('x') uses in descriptions, checked once docs are read
	tests      []*Test                 // every generic test, checked once macros are read
	testMacros map[string]bool         // generic tests defined by {% test name() %} in macros
	singular   map[string]*SingularTest
	seenYAML   map[string]bool
	existing   map[string][]string // names below each dotted fqn path, for unusedFolders
}

// setup fixes the project's name, config, vars and paths from cdp.yaml and dbt_project.yml.
func (l *loader) setup(cfg *config.Project, dbt *dbtProject) {
	p := l.proj
	p.Config = cfg
	defaults := Paths{Models: []string{"models"}, Seeds: []string{"seeds"}, Macros: []string{"macros"}, Tests: []string{"tests"}}
	if cfg != nil {
		p.Name = cfg.Name
		maps.Copy(p.Vars, cfg.Vars)
		defaults.Models = cfg.ModelPaths
		defaults.Seeds = cfg.SeedPaths
		defaults.Macros = cfg.MacroPaths
	}
	p.Paths = defaults
	if dbt != nil {
		if p.Name == "" {
			p.Name = dbt.name
		}
		maps.Copy(p.Vars, dbt.vars)
		set := func(dst *[]string, key string) {
			if v, ok := dbt.paths[key]; ok {
				*dst = v
			}
		}
		set(&p.Paths.Models, "model-paths")
		set(&p.Paths.Seeds, "seed-paths")
		set(&p.Paths.Macros, "macro-paths")
		set(&p.Paths.Tests, "test-paths")
		set(&p.Paths.Docs, "docs-paths")
	}
	if p.Paths.Docs == nil {
		p.Paths.Docs = dedupe(slices.Concat(p.Paths.Models, p.Paths.Seeds, p.Paths.Macros, p.Paths.Tests))
	}
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// read reads every file of the project. Macros come first, so that test names can be checked
// against the generic tests they define; property files come after the SQL they describe.
func (l *loader) read() {
	l.walk(l.proj.Paths.Macros, func(root, name string) {
		if path.Ext(name) == ".sql" {
			l.macro(name)
		}
	})
	l.walk(l.proj.Paths.Tests, func(root, name string) {
		if path.Ext(name) != ".sql" {
			return
		}
		if rel := relTo(root, name); rel == "generic" || strings.HasPrefix(rel, "generic/") {
			l.macro(name) // dbt: tests/generic/ holds {% test %} definitions
			return
		}
		l.singularTest(name)
	})
	l.walk(l.proj.Paths.Models, func(root, name string) {
		switch path.Ext(name) {
		case ".sql":
			l.modelFile(root, name)
		case ".py":
			l.proj.Warnings = append(l.proj.Warnings, &config.Error{
				Pos: config.Pos{File: name, Line: 1},
				Msg: "Python models are not supported by cdp; this file is ignored (rewrite it as a .sql model)",
			})
		}
	})
	l.walk(l.proj.Paths.Seeds, func(root, name string) {
		if path.Ext(name) == ".csv" {
			l.seedFile(root, name)
		}
	})
	l.walk(l.proj.Paths.Docs, func(root, name string) {
		if path.Ext(name) == ".md" {
			l.docsFile(name)
		}
	})
	for _, paths := range [][]string{l.proj.Paths.Models, l.proj.Paths.Seeds, l.proj.Paths.Macros, l.proj.Paths.Tests} {
		l.walk(paths, func(root, name string) {
			if ext := path.Ext(name); (ext == ".yml" || ext == ".yaml") && !l.seenYAML[name] && !notProperties[name] {
				l.seenYAML[name] = true
				l.propertyFile(name)
			}
		})
	}
}

// notProperties are the YAML files at the project's root that are not property files, in case
// a resource path is the root itself.
var notProperties = map[string]bool{
	"cdp.yaml": true, dbtProjectFile: true, "packages.yml": true, "dependencies.yml": true,
	"profiles.yml": true, "selectors.yml": true,
}

// skipDirs are folders of generated files and installed packages, skipped when a resource path
// is the project's root.
var skipDirs = map[string]bool{"target": true, "dbt_packages": true, "dbt_modules": true, "logs": true}

// walk calls fn for every file under the roots, once per file even when roots overlap, in
// lexical order. Hidden folders are skipped; a root that does not exist is no error.
func (l *loader) walk(roots []string, fn func(root, name string)) {
	seen := map[string]bool{}
	for _, root := range roots {
		err := fs.WalkDir(l.fsys, root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				if name == root && errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				if name != root && (strings.HasPrefix(d.Name(), ".") || skipDirs[name]) {
					return fs.SkipDir
				}
				return nil
			}
			if !seen[name] && !strings.HasPrefix(d.Name(), ".") {
				seen[name] = true
				fn(root, name)
			}
			return nil
		})
		if err != nil {
			l.r.Add(config.Pos{File: root}, "read %s: %v", root, err)
		}
	}
}

// relTo is name relative to root ("." for root itself).
func relTo(root, name string) string {
	if root == "." {
		return name
	}
	return strings.TrimPrefix(strings.TrimPrefix(name, root), "/")
}

// folders is the folder path of name below root: models/a/b/x.sql under models is [a b].
func folders(root, name string) []string {
	dir := path.Dir(relTo(root, name))
	if dir == "." || dir == "" {
		return nil
	}
	return strings.Split(dir, "/")
}

func (l *loader) readFile(name string) (string, bool) {
	data, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		l.r.Add(config.Pos{File: name}, "read %s: %v", name, err)
		return "", false
	}
	return string(data), true
}

func baseName(name string) string { return strings.TrimSuffix(path.Base(name), path.Ext(name)) }

// finish sorts the results.
func (l *loader) finish() {
	p := l.proj
	sort.Slice(p.Models, func(i, j int) bool { return p.Models[i].ID < p.Models[j].ID })
	for _, id := range slices.Sorted(maps.Keys(l.tables)) {
		p.Sources = append(p.Sources, l.tables[id])
	}
	for _, name := range slices.Sorted(maps.Keys(l.seeds)) {
		p.Seeds = append(p.Seeds, l.seeds[name])
	}
	sort.Slice(p.Macros, func(i, j int) bool { return p.Macros[i].Path < p.Macros[j].Path })
	for _, name := range slices.Sorted(maps.Keys(l.singular)) {
		p.Tests = append(p.Tests, l.singular[name])
	}
}
