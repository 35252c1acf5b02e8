package compile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

// mdl builds an enabled, unversioned model at models/<id>.sql.
func mdl(id, sql string) *project.Model {
	return &project.Model{
		ID: id, Name: id, Latest: true, Path: "models/" + id + ".sql", SQL: sql,
		Config: project.Config{Enabled: true},
		Pos:    config.Pos{File: "models/" + id + ".sql", Line: 1},
	}
}

func with(m *project.Model, f func(m *project.Model)) *project.Model { f(m); return m }

func proj(models ...*project.Model) *project.Project {
	return &project.Project{Name: "shop", Models: models, Vars: map[string]any{}, Docs: map[string]string{}}
}

func src(source, name string) *project.SourceTable {
	return &project.SourceTable{ID: source + "." + name, Source: source, Name: name, Schema: source, Identifier: name,
		Pos: config.Pos{File: "models/sources.yml", Line: 3}}
}

var testOpts = Options{
	Schema: "main",
	Target: &config.Target{Name: "dev", Type: "duckdb", Threads: 4},
	LookupEnv: func(k string) (string, bool) {
		if k == "CDP_TEST_SCHEMA" {
			return "analytics", true
		}
		return "", false
	},
}

func mustCompile(t *testing.T, p *project.Project) *Result {
	t.Helper()
	r, err := Compile(p, testOpts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return r
}

func compileErr(t *testing.T, p *project.Project) string {
	t.Helper()
	r, err := Compile(p, testOpts)
	if err == nil {
		var b strings.Builder
		for _, id := range r.Order {
			fmt.Fprintf(&b, "%s: %q\n", id, r.Nodes[id].SQL)
		}
		t.Fatalf("Compile succeeded, want an error:\n%s", b.String())
	}
	return err.Error()
}
