package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

func seedNode(name string, types map[string]string) *compile.Node {
	path := "seeds/" + name + ".csv"
	return &compile.Node{
		ID: "seed." + name, Kind: "seed",
		Seed:     &project.Seed{Name: name, Path: path, ColumnTypes: types, Pos: config.Pos{File: path}},
		Config:   project.Config{Enabled: true},
		Relation: warehouse.Relation{Schema: "main", Name: name},
		Pos:      config.Pos{File: path},
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSeeds(t *testing.T) {
	wh := openWH(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "seeds/countries.csv"), "code,name,population\n01,France,68\n02,Japan,124\n03,Chile,19\n")
	nodes := func(types map[string]string) []*compile.Node {
		return []*compile.Node{
			seedNode("countries", types),
			model("big_countries", "table", "select name from main.countries where population > 50", "seed.countries"),
		}
	}
	inDir := func(r *Runner) { r.Dir = dir }
	types := map[string]string{"code": "VARCHAR"}
	sum := run(t, wh, nodes(types), inDir)
	r := result(t, sum, "seed.countries")
	if r.Status != StatusSuccess || r.Rows != 3 || r.Materialized != "seed" {
		t.Fatalf("seed: %+v", r)
	}
	if line := FormatResult(r); !strings.HasPrefix(line, "1 of 2 OK loaded seed main.countries ...") || !strings.Contains(line, "[OK 3 rows in ") {
		t.Errorf("line = %q", line)
	}
	// column_types keeps the leading zeros; the rest is detected.
	if got := queryStrings(t, wh, "select code, name, population + 1 from main.countries order by code"); !cmp.Equal(got, []string{"01|France|69", "02|Japan|125", "03|Chile|20"}) {
		t.Errorf("seed rows = %v", got)
	}
	if got := queryStrings(t, wh, "select name from main.big_countries order by 1"); !cmp.Equal(got, []string{"France", "Japan"}) {
		t.Errorf("downstream = %v", got)
	}

	// Unchanged file and config: skipped, and so is the model that reads it.
	for id, st := range statuses(run(t, wh, nodes(types), inDir)) {
		if st != StatusSkippedUnchanged {
			t.Errorf("second run: %s %s", id, st)
		}
	}
	// A changed file reloads the seed and rebuilds what reads it.
	writeFile(t, filepath.Join(dir, "seeds/countries.csv"), "code,name,population\n01,France,68\n02,Japan,124\n03,Chile,19\n04,Brazil,203\n")
	sum = run(t, wh, nodes(types), inDir)
	if got := statuses(sum); got["seed.countries"] != StatusSuccess || got["model.big_countries"] != StatusSuccess {
		t.Errorf("after editing the file: %v", got)
	}
	if got := queryInt(t, wh, "select count(*) from main.big_countries"); got != 3 {
		t.Errorf("big countries = %d", got)
	}
	// So does a change of column_types.
	sum = run(t, wh, nodes(map[string]string{"code": "VARCHAR", "population": "DOUBLE"}), inDir)
	if got := result(t, sum, "seed.countries"); got.Status != StatusSuccess {
		t.Errorf("after changing column_types: %+v", got)
	}
	cols, err := wh.Columns(context.Background(), warehouse.Relation{Schema: "main", Name: "countries"})
	if err != nil || len(cols) != 3 || cols[2].Type != "DOUBLE" {
		t.Errorf("columns = %v, %v", cols, err)
	}
}

func TestSeedErrors(t *testing.T) {
	wh := openWH(t)
	dir := t.TempDir()
	sum := run(t, wh, []*compile.Node{seedNode("missing", nil)}, func(r *Runner) { r.Dir = dir })
	if r := result(t, sum, "seed.missing"); r.Status != StatusError || !strings.HasPrefix(r.Error, "seed missing (seeds/missing.csv): read seed: open ") {
		t.Errorf("%+v", r)
	}
	writeFile(t, filepath.Join(dir, "seeds/bad.csv"), "a,b\n1,x\n2,y\n")
	sum = run(t, wh, []*compile.Node{seedNode("bad", map[string]string{"b": "INTEGER"})}, func(r *Runner) { r.Dir = dir })
	if r := result(t, sum, "seed.bad"); r.Status != StatusError || !strings.HasPrefix(r.Error, "seed bad (seeds/bad.csv): Conversion Error") {
		t.Errorf("%+v", r)
	}
}

func TestFreshness(t *testing.T) {
	wh := openWH(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	mustExec(t, wh, `create schema raw; create schema landing;
		create table raw.fresh as select timestamptz '2024-05-01 11:00:00+00' as loaded_at;
		create table raw.stale as select timestamptz '2024-05-01 08:30:00+00' as loaded_at, 'web' as channel
			union all select timestamptz '2024-05-01 11:59:00+00', 'app';
		create table raw.empty (loaded_at timestamptz);
		create table landing.evts_v2 as select timestamp '2024-04-30 12:00:00' as received_at`)
	rule := &project.Freshness{WarnAfter: 2 * time.Hour, ErrorAfter: 6 * time.Hour}
	src := func(name, field string, f *project.Freshness) *project.SourceTable {
		return &project.SourceTable{ID: "raw." + name, Source: "raw", Name: name, LoadedAtField: field, Freshness: f,
			Pos: config.Pos{File: "models/sources.yml", Line: 4}}
	}
	filtered := &project.Freshness{WarnAfter: 2 * time.Hour, ErrorAfter: 6 * time.Hour, Filter: "channel = 'web'"}
	renamed := src("events", "received_at", rule)
	renamed.Schema, renamed.Identifier = "landing", "evts_v2"
	got, err := Freshness(context.Background(), wh, []*project.SourceTable{
		src("fresh", "loaded_at", rule),
		src("stale", "loaded_at", filtered), // the app row is new, but the filter keeps the web one
		renamed,
		src("missing", "loaded_at", rule),
		src("empty", "loaded_at", rule),
		src("unchecked", "loaded_at", nil),
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Source, Relation string
		Status           FreshnessStatus
		Age              time.Duration
		Error            string
	}
	var rows []row
	for _, r := range got {
		rows = append(rows, row{r.Source, r.Relation, r.Status, r.Age, r.Error})
	}
	want := []row{
		{"raw.fresh", "raw.fresh", FreshnessPass, time.Hour, ""},
		{"raw.stale", "raw.stale", FreshnessWarn, 3*time.Hour + 30*time.Minute, ""},
		{"raw.events", "landing.evts_v2", FreshnessError, 24 * time.Hour, ""},
		{"raw.missing", "raw.missing", FreshnessRuntimeError, 0, "source raw.missing (models/sources.yml:4): Catalog Error: Table with name missing does not exist!"},
		{"raw.empty", "raw.empty", FreshnessError, 0, "source raw.empty (models/sources.yml:4): no rows with a loaded_at to tell how fresh it is"},
	}
	opt := cmp.Transformer("firstLine", func(r row) row {
		r.Error, _, _ = strings.Cut(r.Error, "\n")
		return r
	})
	if diff := cmp.Diff(want, rows, opt); diff != "" {
		t.Errorf("freshness (-want +got):\n%s", diff)
	}
}
