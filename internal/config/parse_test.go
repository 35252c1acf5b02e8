package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestParseDefaults(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": "name: shop\n"})
	want := &Project{
		Dir:           testDir,
		Name:          "shop",
		DefaultTarget: "dev",
		Targets: map[string]*Target{"dev": {
			Name: "dev", Type: "duckdb", Path: filepath.Join(testDir, ".cdp", "warehouse.duckdb"),
			Threads: 4, Pos: Pos{File: "cdp.yaml"},
		}},
		Vars:       map[string]any{},
		Sources:    map[string]*Source{},
		ModelPaths: []string{"models"},
		SeedPaths:  []string{"seeds"},
		MacroPaths: []string{"macros"},
		SyncPaths:  []string{"syncs"},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("project (-want +got):\n%s", diff)
	}
}

func TestParseFull(t *testing.T) {
	p, err := parseFiles(t, map[string]string{"cdp.yaml": y(`
name: shop
target: prod
targets:
  dev:
    type: duckdb
    path: data/dev.duckdb
    threads: 8
    memory_limit: 2GB
  mem:
    type: duckdb
    path: ":memory:"
  abs:
    type: duckdb
    path: /var/lib/cdp.duckdb
  prod:
    type: bigquery
    project: ${GCP_PROJECT}
    dataset: cdp
vars:
  default_country: US
  limit: 10
  ratio: 0.5
  on: true
  nested: {a: [1, "two", null]}
  secret: ${SECRET:-none}
model-paths: [models, ./more/../extra]
sync-paths: [syncs]
`)}, map[string]string{"GCP_PROJECT": "acme"})
	if err != nil {
		t.Fatal(err)
	}
	wantTargets := map[string]*Target{
		"dev":  {Name: "dev", Type: "duckdb", Path: filepath.Join(testDir, "data", "dev.duckdb"), Threads: 8, MemoryLimit: "2GB", Pos: Pos{"cdp.yaml", 4}},
		"mem":  {Name: "mem", Type: "duckdb", Path: ":memory:", Threads: 4, Pos: Pos{"cdp.yaml", 9}},
		"abs":  {Name: "abs", Type: "duckdb", Path: "/var/lib/cdp.duckdb", Threads: 4, Pos: Pos{"cdp.yaml", 12}},
		"prod": {Name: "prod", Type: "bigquery", Project: "acme", Dataset: "cdp", Location: "US", Threads: 4, Pos: Pos{"cdp.yaml", 15}},
	}
	if diff := cmp.Diff(wantTargets, p.Targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	wantVars := map[string]any{
		"default_country": "US", "limit": 10, "ratio": 0.5, "on": true,
		"nested": map[string]any{"a": []any{1, "two", nil}},
		"secret": "none",
	}
	if diff := cmp.Diff(wantVars, p.Vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	if p.DefaultTarget != "prod" || p.DefaultTargetPos != (Pos{"cdp.yaml", 2}) {
		t.Errorf("default target = %q at %v, want prod at cdp.yaml:2", p.DefaultTarget, p.DefaultTargetPos)
	}
	if diff := cmp.Diff([]string{"models", "extra"}, p.ModelPaths); diff != "" {
		t.Errorf("model paths (-want +got):\n%s", diff)
	}
}

func TestParseEnv(t *testing.T) {
	env := map[string]string{"PROJ": "acme", "EMPTY": ""}
	tests := []struct {
		name    string
		value   string // the bigquery project
		want    string
		wantErr string
	}{
		{"set", "${PROJ}", "acme", ""},
		{"inside text", "p-${PROJ}-1", "p-acme-1", ""},
		{"default used", "${NOPE:-fallback}", "fallback", ""},
		{"default ignored", "${PROJ:-fallback}", "acme", ""},
		{"empty uses default", "${EMPTY:-fallback}", "fallback", ""},
		{"dollar dollar", "a$$b$${PROJ}", "a$b${PROJ}", ""},
		{"lone dollar", "a$b", "a$b", ""},
		{"unset", "${GCP_PROJECT}", "", "cdp.yaml:6: environment variable GCP_PROJECT is not set; export it or write ${GCP_PROJECT:-default}"},
		{"unterminated", "${PROJ", "", `cdp.yaml:6: unterminated ${ in "${PROJ"; close it with } or write $$ for a literal $`},
		{"bad name", "${A-B}", "", `cdp.yaml:6: invalid environment variable name "A-B"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseFiles(t, map[string]string{"cdp.yaml": y(`
name: shop
target: prod
targets:
  prod:
    type: bigquery
    project: '` + tt.value + `'
    dataset: cdp
`)}, env)
			if tt.wantErr != "" {
				// project: is line 6 of the file above.
				wantErr(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Targets["prod"].Project; got != tt.want {
				t.Errorf("project = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{"unknown top-level key", "name: shop\ntagret: dev\n",
			[]string{`cdp.yaml:2: unknown key "tagret"; did you mean "target"?`}},
		{"unknown target key", "name: shop\ntargets:\n  dev:\n    tyep: duckdb\n",
			[]string{`cdp.yaml:4: unknown key "tyep" in targets.dev; did you mean "type"?`}},
		{"underscore for hyphen", "name: shop\nmodel_paths: [m]\n",
			[]string{`cdp.yaml:2: unknown key "model_paths"; did you mean "model-paths"?`}},
		{"unknown key without suggestion", "name: shop\nzzz: 1\n",
			[]string{`cdp.yaml:2: unknown key "zzz"; valid keys are name, version, target`}},
		{"list for mapping", "name: shop\ntargets:\n  - dev\n",
			[]string{`cdp.yaml:3: targets must be a mapping (key: value lines), got a list`}},
		{"top level list", "- a\n",
			[]string{`cdp.yaml:1: cdp.yaml must be a mapping (key: value lines), got a list`}},
		{"threads not a number", "name: shop\ntargets:\n  dev:\n    type: duckdb\n    threads: four\n",
			[]string{`cdp.yaml:5: targets.dev.threads must be a whole number, got "four"`}},
		{"threads zero", "name: shop\ntargets:\n  dev:\n    type: duckdb\n    threads: 0\n",
			[]string{`cdp.yaml:3: target "dev": threads must be at least 1, got 0`}},
		{"memory_limit not a size", "name: shop\ntargets:\n  dev:\n    type: duckdb\n    memory_limit: lots\n",
			[]string{`cdp.yaml:5: targets.dev.memory_limit must be a size such as 512MB or 4GB, got "lots"`}},
		{"memory_limit on bigquery", "name: shop\ntargets:\n  prod:\n    type: bigquery\n    project: p\n    dataset: d\n    memory_limit: 1GB\n",
			[]string{`cdp.yaml:7: memory_limit applies to duckdb targets, not bigquery ones; remove it from targets.prod`}},
		{"name is a map", "name: {a: b}\n",
			[]string{`cdp.yaml:1: name must be a single value, got a mapping`}},
		{"duplicate key", "name: shop\ntargets:\n  dev: {type: duckdb}\n  dev: {type: duckdb}\n",
			[]string{`cdp.yaml:4: key "dev" appears twice in targets (first at line 3); remove one`}},
		{"syntax error", "name: shop\ntargets:\n  dev: [\n",
			[]string{`cdp.yaml:`, `invalid YAML: `}},
		{"tab syntax error", "name: shop\n\tx: 1\n",
			[]string{`cdp.yaml:2: invalid YAML: found a tab character that violates indentation`}},
		{"no name", "target: dev\n",
			[]string{"cdp.yaml: the project has no name; add `name: my_project` to cdp.yaml"}},
		{"empty file", "",
			[]string{"cdp.yaml: the project has no name"}},
		{"version", "version: 2\nname: shop\n",
			[]string{`cdp.yaml:1: version "2" is not supported; this cdp reads version 1`}},
		{"path outside project", "name: shop\nmodel-paths: [../x]\n",
			[]string{`cdp.yaml:2: model-paths entry "../x" must be a folder inside the project, relative to cdp.yaml`}},
		{"bad target type", "name: shop\ntargets:\n  dev:\n    type: postgres\n",
			[]string{`cdp.yaml:3: target "dev": type "postgres" is not supported; use one of duckdb, bigquery`}},
		{"missing target type", "name: shop\ntargets:\n  dev:\n    threads: 2\n",
			[]string{"cdp.yaml:3: target \"dev\" has no type; add `type: duckdb` or `type: bigquery` under targets.dev"}},
		{"bigquery needs project and dataset", "name: shop\ntargets:\n  dev:\n    type: bigquery\n",
			[]string{
				"cdp.yaml:3: bigquery target \"dev\" needs the GCP project to run in; add `project: my-gcp-project` under targets.dev",
				"cdp.yaml:3: bigquery target \"dev\" needs a dataset for its tables; add `dataset: cdp` under targets.dev",
			}},
		{"bigquery needs dataset only", "name: shop\ntargets:\n  dev:\n    type: bigquery\n    project: p\n",
			[]string{"add `dataset: cdp` under targets.dev"}},
		{"key of the other engine", "name: shop\ntargets:\n  dev:\n    type: duckdb\n    dataset: x\n",
			[]string{`cdp.yaml:5: dataset applies to bigquery targets, not duckdb ones; remove it from targets.dev`}},
		{"undefined default target", "name: shop\ntarget: prd\ntargets:\n  dev: {type: duckdb}\n  prod: {type: bigquery, project: p, dataset: d}\n",
			[]string{`target "prd" (cdp.yaml:2) is not defined; defined targets: dev, prod`}},
		{"dev missing without target key", "name: shop\ntargets:\n  prod: {type: bigquery, project: p, dataset: d}\n",
			[]string{"cdp.yaml: default target \"dev\" is not defined; defined targets: prod; set `target:` in cdp.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(t, map[string]string{"cdp.yaml": tt.yaml}, nil)
			wantErr(t, err, tt.wants...)
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := parseFiles(t, map[string]string{"cdp.yaml": "name: shop\ntagret: dev\ntargets:\n  dev:\n    threads: x\n"}, nil)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	want := "cdp.yaml:2: unknown key \"tagret\"; did you mean \"target\"?\ncdp.yaml:5: targets.dev.threads must be a whole number, got \"x\""
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	var one *Error
	if !errors.As(err, &one) || one.Pos != (Pos{"cdp.yaml", 2}) {
		t.Errorf("errors.As(*Error) = %v, want the first problem at cdp.yaml:2", one)
	}
}

func TestParseMergeKeys(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": y(`
name: shop
targets:
  base: &base
    type: duckdb
    threads: 2
  dev:
    <<: *base
    threads: 6
`)})
	if got := p.Targets["dev"]; got.Type != "duckdb" || got.Threads != 6 {
		t.Errorf("dev = %+v, want the anchor's type and its own threads", got)
	}
}

func TestNoProject(t *testing.T) {
	_, err := Parse(fstest.MapFS{}, "/some/dir")
	want := `no cdp.yaml in /some/dir: run "cdp init /some/dir" to create a project, or pass --project-dir`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
	if !errors.Is(err, ErrNoProject) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, ErrNoProject / fs.ErrNotExist) = false, want true")
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cdp.yaml"), []byte("name: disk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".cdp", "warehouse.duckdb"); p.Dir != dir || p.Targets["dev"].Path != want {
		t.Errorf("Dir = %s, dev path = %s; want %s and %s", p.Dir, p.Targets["dev"].Path, dir, want)
	}
}
