package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Options changes how a project is read. The zero value is what the CLI uses.
type Options struct {
	// LookupEnv resolves ${VAR} references; nil means os.LookupEnv. Tests pass their own so
	// they never depend on the environment they run in.
	LookupEnv func(key string) (string, bool)
}

// Load reads the project in dir from disk. See Parse.
func Load(dir string) (*Project, error) { return LoadWith(dir, Options{}) }

// LoadWith is Load with options.
func LoadWith(dir string, opts Options) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project directory %s: %w", dir, err)
	}
	return ParseWith(os.DirFS(abs), abs, opts)
}

// Parse reads cdp.yaml from fsys, then the dbt-style source declarations in the model paths
// (models/**/*.yml and *.yaml), and validates the result. dir is the project directory on disk
// that fsys is rooted at: it becomes Project.Dir and relative warehouse paths resolve against it.
//
// A missing cdp.yaml is an error matching ErrNoProject. Any other problem is returned as Errors:
// every problem found, each with file:line and a fix.
func Parse(fsys fs.FS, dir string) (*Project, error) { return ParseWith(fsys, dir, Options{}) }

// ParseWith is Parse with options.
func ParseWith(fsys fs.FS, dir string, opts Options) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("project directory %s: %w", dir, err)
	}
	data, err := fs.ReadFile(fsys, projectFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noProjectError{dir: dir}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", projectFile, dir, err)
	}
	p := &parser{fsys: fsys, dir: abs, lookupEnv: opts.LookupEnv, contracts: map[string]*Contract{}}
	if p.lookupEnv == nil {
		p.lookupEnv = os.LookupEnv
	}
	proj := p.project(data)
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

const projectFile = "cdp.yaml"

// parser holds what one Parse call shares: where files come from and every problem so far.
type parser struct {
	fsys      fs.FS
	dir       string // absolute project directory
	lookupEnv func(string) (string, bool)
	errs      Errors
	// contracts caches contract files by path, so a file two sources share is read and its
	// problems reported once. nil means the file had errors.
	contracts map[string]*Contract
	// raw keeps strings as written (no ${VAR} expansion), for files other packages own
	// through Reader. Parse never sets it.
	raw bool
}

var projectKeys = []string{
	"name", "version", "target", "targets", "vars", "sources",
	"model-paths", "seed-paths", "macro-paths", "sync-paths", "pipelines",
}

// project parses cdp.yaml into a Project with every default filled in.
func (p *parser) project(data []byte) *Project {
	const f = projectFile
	proj := &Project{
		Dir:           p.dir,
		DefaultTarget: "dev",
		Targets:       map[string]*Target{},
		Vars:          map[string]any{},
		Sources:       map[string]*Source{},
		ModelPaths:    []string{"models"},
		SeedPaths:     []string{"seeds"},
		MacroPaths:    []string{"macros"},
		SyncPaths:     []string{"syncs"},
	}
	root, ok := p.readYAML(f, data)
	pairs, mapOK := p.mapping(f, "", root, projectKeys)
	if ok && mapOK {
		for _, kv := range pairs {
			p.projectKey(proj, kv)
		}
	}
	if len(proj.Targets) == 0 {
		// A project with no targets runs on a local DuckDB file, so `cdp init` + `cdp run`
		// works with no warehouse setup at all.
		proj.Targets["dev"] = &Target{
			Name:    "dev",
			Type:    "duckdb",
			Path:    filepath.Join(p.dir, ".cdp", "warehouse.duckdb"),
			Threads: 4,
			Pos:     Pos{File: f},
		}
	}
	return proj
}

func (p *parser) projectKey(proj *Project, kv pair) {
	const f = projectFile
	switch kv.key {
	case "name":
		proj.Name, _ = p.str(f, kv.key, kv.val)
	case "version":
		if v, ok := p.str(f, kv.key, kv.val); ok && v != "1" {
			p.errorf(f, kv.val, "version %q is not supported; this cdp reads version 1 (or remove version:)", v)
		}
	case "target":
		if v, ok := p.str(f, kv.key, kv.val); ok && v != "" {
			proj.DefaultTarget = v
			proj.DefaultTargetPos = Pos{File: f, Line: kv.val.Line}
		}
	case "targets":
		p.targets(proj, kv.val)
	case "vars":
		if pairs, ok := p.mapping(f, kv.key, kv.val, nil); ok {
			for _, v := range pairs {
				proj.Vars[v.key] = p.value(f, join("vars", v.key), v.val)
			}
		}
	case "sources":
		p.sources(proj, kv.val)
	case "model-paths":
		proj.ModelPaths = p.paths(kv)
	case "seed-paths":
		proj.SeedPaths = p.paths(kv)
	case "macro-paths":
		proj.MacroPaths = p.paths(kv)
	case "sync-paths":
		proj.SyncPaths = p.paths(kv)
	case "pipelines":
		p.pipelines(proj, kv.val)
	}
}

// paths reads a list of folders inside the project, cleaned and with forward slashes as fs.FS
// expects. Folders outside the project are refused: fsys cannot reach them.
func (p *parser) paths(kv pair) []string {
	list, _ := p.strList(projectFile, kv.key, kv.val)
	out := make([]string, 0, len(list))
	for i, s := range list {
		clean, ok := projectPath(".", s)
		if !ok {
			p.errorf(projectFile, kv.val.Content[i], "%s entry %q must be a folder inside the project, relative to cdp.yaml", kv.key, s)
			continue
		}
		out = append(out, clean)
	}
	return out
}

// projectPath resolves rel against the project folder base (slash-separated, relative to the
// project) and reports whether the result stays inside the project.
func projectPath(base, rel string) (string, bool) {
	rel = filepath.ToSlash(rel)
	if rel == "" || path.IsAbs(rel) || filepath.IsAbs(rel) {
		return "", false
	}
	clean := path.Join(base, rel)
	if clean == ".." || strings.HasPrefix(clean, "../") || !fs.ValidPath(clean) {
		return "", false
	}
	return clean, true
}
