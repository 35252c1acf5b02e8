package project

import (
	"strings"
	"testing"
	"testing/fstest"
)

const testDir = "/proj"

// parseFiles parses a project made of files (path -> content). Without a cdp.yaml or
// dbt_project.yml among them, a minimal cdp.yaml is added.
func parseFiles(t *testing.T, files map[string]string) (*Project, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	_, cdp := files["cdp.yaml"]
	_, dbt := files["dbt_project.yml"]
	if !cdp && !dbt {
		fsys["cdp.yaml"] = &fstest.MapFile{Data: []byte("name: shop\n")}
	}
	return Parse(fsys, testDir, nil)
}

func mustParse(t *testing.T, files map[string]string) *Project {
	t.Helper()
	p, err := parseFiles(t, files)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// wantErrs checks that err is not nil and contains each of wants as a whole line.
func wantErrs(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want:\n%s", strings.Join(wants, "\n"))
	}
	lines := strings.Split(err.Error(), "\n")
	for _, w := range wants {
		found := false
		for _, l := range lines {
			if l == w {
				found = true
			}
		}
		if !found {
			t.Errorf("no error line\n\t%s\ngot:\n%v", w, err)
		}
	}
}

// y turns a YAML literal written with a leading newline into file content.
func y(s string) string { return strings.TrimPrefix(s, "\n") }

func model(t *testing.T, p *Project, id string) *Model {
	t.Helper()
	for _, m := range p.Models {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no model %s", id)
	return nil
}
