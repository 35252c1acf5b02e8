package config

import (
	"strings"
	"testing"
	"testing/fstest"
)

const testDir = "/proj"

// parseFiles parses a project made of files (path -> content) with env as the whole environment.
func parseFiles(t *testing.T, files map[string]string, env map[string]string) (*Project, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	return ParseWith(fsys, testDir, Options{LookupEnv: lookup})
}

// mustParse parses files and fails the test on any error.
func mustParse(t *testing.T, files map[string]string) *Project {
	t.Helper()
	p, err := parseFiles(t, files, nil)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// wantErr checks that err is not nil and its text contains every one of wants.
func wantErr(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q; got:\n%v", w, err)
		}
	}
}

// y turns a tab-free YAML literal written with a leading newline into file content.
func y(s string) string { return strings.TrimPrefix(s, "\n") }
