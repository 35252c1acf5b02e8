package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/google/go-cmp/cmp"
)

var wantFiles = []string{
	".gitignore", "cdp.yaml", "contracts/events.yml", "models/.gitkeep", "models/sources.yml",
	"seeds/.gitkeep", "syncs/.gitkeep",
}

func TestWriteParses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop") // does not exist yet: Write creates it
	files, err := Write(dir, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	p, err := config.LoadWith(dir, config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("scaffolded project does not parse: %v", err)
	}
	if p.Name != "shop" {
		t.Errorf("name = %q, want shop", p.Name)
	}
	tgt, err := p.Target("")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, ".cdp", "warehouse.duckdb"); tgt.Type != "duckdb" || tgt.Path != want {
		t.Errorf("default target = %s %s, want duckdb %s", tgt.Type, tgt.Path, want)
	}
	src, err := p.Source("events")
	if err != nil {
		t.Fatal(err)
	}
	if src.Format != "segment" || src.Schema != "raw" || len(src.Contract.Events) != 3 {
		t.Errorf("events = %s %s.%s with %d planned events, want segment raw.events with 3", src.Format, src.Schema, src.Name, len(src.Contract.Events))
	}
}

func TestWriteRefusesExistingProject(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(dir, "shop"); err != nil {
		t.Fatal(err)
	}
	_, err := Write(dir, "shop")
	want := dir + " already has a cdp.yaml; cdp init only creates new projects, so pick another directory"
	if err == nil || err.Error() != want {
		t.Errorf("second Write error = %v, want %s", err, want)
	}
}

func TestWriteRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "models", "sources.yml"), "mine\n")
	_, err := Write(dir, "shop")
	if err == nil || !strings.Contains(err.Error(), "already has models/sources.yml; move them away") {
		t.Errorf("Write error = %v, want one naming models/sources.yml", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cdp.yaml")); err == nil {
		t.Error("Write wrote cdp.yaml although it refused the directory")
	}
}

func TestWriteKeepsGitignore(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, ".gitignore"), "node_modules/\ntarget/")
	if _, err := Write(dir, "shop"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("node_modules/\ntarget/\n.cdp/\n", string(got)); diff != "" {
		t.Errorf(".gitignore (-want +got):\n%s", diff)
	}
}

func TestWriteName(t *testing.T) {
	tests := []struct{ dir, name, want, wantErr string }{
		{"my shop", "", "my_shop", ""},
		{"2024-data", "", "_2024-data", ""},
		{"x", "good_name-1", "good_name-1", ""},
		{"x", "bad: name", "", `project name "bad: name" is not valid: use letters, digits, _ and -, starting with a letter or _`},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), tt.dir)
		_, err := Write(dir, tt.name)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Write(%q, %q) error = %v, want %s", tt.dir, tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := config.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != tt.want {
			t.Errorf("Write(%q, %q): name = %q, want %q", tt.dir, tt.name, p.Name, tt.want)
		}
	}
}

// The repository root is a cdp project too; its contract must stay the one cdp init writes.
func TestRootContractMatchesTemplate(t *testing.T) {
	root, err := os.ReadFile("../../contracts/events.yml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templateFS.ReadFile("template/contracts/events.yml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(tmpl), string(root)); diff != "" {
		t.Errorf("contracts/events.yml differs from the scaffold's; copy internal/scaffold/template/contracts/events.yml (-template +root):\n%s", diff)
	}
}

func TestRootProjectParses(t *testing.T) {
	p, err := config.LoadWith("../..", config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("the repository's own cdp.yaml does not parse: %v", err)
	}
	if _, err := p.Source("events"); err != nil {
		t.Error(err)
	}
}

func mustWrite(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
