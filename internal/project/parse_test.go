package project

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
)

func TestTestForms(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/m.sql":          "select 1",
		"macros/my_tests.sql":   "{% test is_even(model, column_name) %}select 1{% endtest %}",
		"tests/generic/odd.sql": "{% macro test_is_odd(model, column_name) %}select 1{% endmacro %}",
		"models/s.yml": y(`
version: 2
models:
  - name: m
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          combination_of_columns: [a, b]
      - unique:
          column_name: "a || '-' || b"
    columns:
      - name: a
        tests:
          - not_null
          - accepted_values: {values: [1, 2], quote: false, severity: WARN, where: "a > 0", limit: 5}
          - accepted_values:
              arguments:
                values: [x]
              config: {severity: warn, where: "b = 1", store_failures: true}
              name: a_is_x
              description: Only x.
          - test_name: relationships
            to: ref('other')
            field: id
          - is_even
          - is_odd:
              config:
                severity: "{{ 'error' if target.name == 'prod' else 'warn' }}"
`),
	})
	const f = "models/s.yml"
	want := []*Test{
		test("not_null", "a", at(f, 12)),
		test("accepted_values", "a", at(f, 13), args(map[string]any{"values": []any{1, 2}, "quote": false}),
			func(t *Test) { t.Severity, t.Where, t.Config = "warn", "a > 0", map[string]any{"limit": 5} }),
		test("accepted_values", "a", at(f, 14), args(map[string]any{"values": []any{"x"}}), func(t *Test) {
			t.Severity, t.Where, t.Config = "warn", "b = 1", map[string]any{"store_failures": true}
			t.CustomName, t.Description = "a_is_x", "Only x."
		}),
		test("relationships", "a", at(f, 20), args(map[string]any{"to": "ref('other')", "field": "id"})),
		test("is_even", "a", at(f, 23)),
		test("is_odd", "a", at(f, 24), func(t *Test) { t.Severity = "{{ 'error' if target.name == 'prod' else 'warn' }}" }),
	}
	m := model(t, p, "m")
	if diff := cmp.Diff(want, m.Columns[0].Tests); diff != "" {
		t.Errorf("column tests (-want +got):\n%s", diff)
	}
	wantModel := []*Test{
		test("dbt_utils.unique_combination_of_columns", "", at(f, 5), args(map[string]any{"combination_of_columns": []any{"a", "b"}})),
		test("unique", "", at(f, 7), args(map[string]any{"column_name": "a || '-' || b"})),
	}
	if diff := cmp.Diff(wantModel, m.Tests); diff != "" {
		t.Errorf("model tests (-want +got):\n%s", diff)
	}
	if len(p.Tests) != 0 || len(p.Macros) != 2 {
		t.Errorf("got %d singular tests and %d macro files, want 0 and 2 (tests/generic holds macros)", len(p.Tests), len(p.Macros))
	}
}

func TestFolderConfig(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/a.sql":           "select 1",
		"models/mart/b.sql":      "select 1",
		"models/mart/deep/c.sql": "select 1",
		"models/mart/deep/d.sql": "select 1",
		"models/other/e.sql":     "select 1",
		"models/mart/props.yml":  "models:\n  - name: c\n    config: {materialized: ephemeral, tags: c_tag, meta: {owner: c}, enabled: true}\n    meta: {legacy: true}\n",
		"dbt_project.yml": y(`
name: shop
models:
  +meta: {owner: root}
  shop:
    +tags: [shop]
    materialized: table
    mart:
      +schema: mart
      +tags: [mart, shop]
      +pre_hook: "select 1"
      identity_rules: {max_ids: 3}
      deep:
        +materialized: incremental
        +unique_key: [id, day]
        +enabled: "{{ target.name == 'prod' }}"
        +contract: {enforced: true}
        d:
          +enabled: false
    other:
      +enabled: false
`),
	})
	got := map[string]Config{}
	for _, m := range p.Models {
		got[m.ID] = m.Config
	}
	root := map[string]any{"owner": "root"}
	want := map[string]Config{
		"a": {Materialized: "table", Tags: []string{"shop"}, Enabled: true, Meta: root},
		"b": {Materialized: "table", Schema: "mart", Tags: []string{"shop", "mart"}, Enabled: true, Meta: root,
			Extra: map[string]any{"pre-hook": "select 1"}},
		"c": {Materialized: "ephemeral", Schema: "mart", Tags: []string{"shop", "mart", "c_tag"}, Enabled: true,
			UniqueKey: []string{"id", "day"}, ContractEnforced: true,
			Meta:  map[string]any{"owner": "c", "legacy": true},
			Extra: map[string]any{"pre-hook": "select 1"}},
		"d": {Materialized: "incremental", Schema: "mart", Tags: []string{"shop", "mart"}, Enabled: false,
			UniqueKey: []string{"id", "day"}, ContractEnforced: true, Meta: root,
			Extra: map[string]any{"pre-hook": "select 1"}},
		"e": {Materialized: "table", Tags: []string{"shop"}, Enabled: false, Meta: root},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configs (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Pos != at("dbt_project.yml", 11) {
		// identity_rules: a mapping without + is a folder, as in dbt.
		t.Errorf("warnings = %v, want one about models.shop.mart.identity_rules at dbt_project.yml:11", p.Warnings)
	}
}

func TestFolderConfigJinjaEnabled(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/m.sql":    "select 1",
		"dbt_project.yml": "name: shop\nmodels:\n  shop:\n    +enabled: \"{{ target.name == 'prod' }}\"\n",
	})
	c := p.Models[0].Config
	if !c.Enabled || c.Extra["enabled"] != "{{ target.name == 'prod' }}" {
		t.Errorf("config = %+v, want Enabled true and the expression in Extra[enabled]", c)
	}
}

func TestPathsAndVars(t *testing.T) {
	files := map[string]string{
		"cdp.yaml":             "name: shop\nmodel-paths: [transform]\nseed-paths: [data]\nvars: {a: 1, b: 1}\n",
		"transform/m.sql":      "select 1",
		"models/ignored.sql":   "select 1",
		"data/s.csv":           "x\n",
		"tests/t.sql":          "select 1",
		"tests/more/t2.sql":    "select 1",
		"macros/m.sql":         "{% macro m() %}{% endmacro %}",
		"transform/sub/doc.md": "{% docs d %}\nD\n{% enddocs %}",
	}
	p := mustParse(t, files)
	if len(p.Models) != 1 || p.Models[0].Path != "transform/m.sql" || len(p.Seeds) != 1 || p.Seeds[0].Path != "data/s.csv" {
		t.Errorf("models %v and seeds %v, want transform/m.sql and data/s.csv from cdp.yaml's paths", p.Models, p.Seeds)
	}
	if len(p.Tests) != 2 || p.Tests[1].Name != "t2" || p.Docs["d"] != "D" {
		t.Errorf("tests = %v, docs = %v", p.Tests, p.Docs)
	}

	// dbt_project.yml's paths win where it sets them; its vars overlay cdp.yaml's.
	files["dbt_project.yml"] = "name: shop\nmodel-paths: [models]\nvars: {b: 2, shop: {c: 3}, pkg: {d: 4}}\n"
	p = mustParse(t, files)
	if len(p.Models) != 1 || p.Models[0].Path != "models/ignored.sql" || p.Seeds[0].Path != "data/s.csv" {
		t.Errorf("models %v and seeds %v, want models/ignored.sql and data/s.csv", p.Models, p.Seeds)
	}
	wantVars := map[string]any{"a": 1, "b": 2, "c": 3, "pkg": map[string]any{"d": 4}}
	if diff := cmp.Diff(wantVars, p.Vars); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}
	wantPaths := Paths{
		Models: []string{"models"}, Seeds: []string{"data"}, Macros: []string{"macros"}, Tests: []string{"tests"},
		Docs: []string{"models", "data", "macros", "tests"},
	}
	if diff := cmp.Diff(wantPaths, p.Paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestGivenConfig(t *testing.T) {
	cfg := &config.Project{Name: "given", ModelPaths: []string{"m"}, SeedPaths: []string{"s"}, MacroPaths: []string{"x"}}
	fsys := fstest.MapFS{"m/a.sql": {Data: []byte("select 1")}}
	p, err := Parse(fsys, testDir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Config != cfg || p.Name != "given" || len(p.Models) != 1 {
		t.Errorf("project = %+v, want the given config and model m/a.sql", p)
	}
}

func TestVersions(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/orders_v1.sql": "select 1 as v",
		"models/orders.sql":    "select 2 as v",
		"models/legacy.sql":    "select 3 as v",
		"models/events_vb.sql": "select 1",
		"models/events_va.sql": "select 1",
		"models/s.yml": y(`
models:
  - name: orders
    description: All orders.
    tests: [model_test]
    columns:
      - {name: id, tests: [unique]}
      - {name: amount, description: Euros.}
      - {name: status}
    versions:
      - v: 1
        columns:
          - include: [id]
          - {name: legacy, data_type: text}
      - v: 2
        tests: []
        columns:
          - {name: amount, description: Cents.}
      - v: 0
        defined_in: legacy
        columns:
          - include: "*"
            exclude: [status]
  - name: events
    versions: [{v: a}, {v: b}]
`),
	})
	const f = "models/s.yml"
	type ver struct {
		ID, Path string
		Latest   bool
		Columns  []string
		Tests    int
	}
	var got []ver
	for _, m := range p.Models {
		v := ver{ID: m.ID, Path: m.Path, Latest: m.Latest, Tests: len(m.Tests)}
		for _, c := range m.Columns {
			v.Columns = append(v.Columns, c.Name+":"+c.Description)
		}
		got = append(got, v)
	}
	want := []ver{
		{ID: "events.va", Path: "models/events_va.sql"},
		{ID: "events.vb", Path: "models/events_vb.sql", Latest: true},
		{ID: "orders.v0", Path: "models/legacy.sql", Columns: []string{"id:", "amount:Euros."}, Tests: 1},
		{ID: "orders.v1", Path: "models/orders_v1.sql", Columns: []string{"id:", "legacy:"}, Tests: 1},
		// The latest version may live in the file without the _v suffix.
		{ID: "orders.v2", Path: "models/orders.sql", Latest: true, Columns: []string{"id:", "amount:Cents.", "status:"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	v1 := model(t, p, "orders.v1")
	if v1.Name != "orders" || v1.Version != "1" || v1.Pos != at(f, 10) || v1.DefaultAlias() != "orders_v1" || v1.Description != "All orders." {
		t.Errorf("orders.v1 = %+v", v1)
	}
	// Versions get their own copies of the model's columns and tests.
	v0 := model(t, p, "orders.v0")
	if v0.Columns[0] == v1.Columns[0] || v0.Columns[0].Tests[0] == v1.Columns[0].Tests[0] || v0.Tests[0] == v1.Tests[0] {
		t.Errorf("versions share columns or tests")
	}
}

func TestSources(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/s.yml": y(`
sources:
  - name: segment
    database: my-gcp-project
    schema: raw_segment
    config:
      loaded_at_field: received_at
      freshness:
        error_after: {count: 2, period: day}
    tables:
      - name: tracks
        description: Track calls.
        meta:
          cdp: {format: segment}
        data_tests:
          - dbt_utils.recency: {datepart: day, field: received_at, interval: 1}
      - name: pages
        config:
          freshness:
            warn_after: {count: 6, period: hour}
`),
	})
	const f = "models/s.yml"
	want := []*SourceTable{
		{
			ID: "segment.pages", Source: "segment", Name: "pages", Database: "my-gcp-project", Schema: "raw_segment",
			Identifier: "pages", LoadedAtField: "received_at",
			Freshness: &Freshness{WarnAfter: 6 * time.Hour, ErrorAfter: 48 * time.Hour},
			Pos:       at(f, 16),
		},
		{
			ID: "segment.tracks", Source: "segment", Name: "tracks", Database: "my-gcp-project", Schema: "raw_segment",
			Identifier: "tracks", Description: "Track calls.", LoadedAtField: "received_at",
			Freshness: &Freshness{ErrorAfter: 48 * time.Hour},
			Tests: []*Test{test("dbt_utils.recency", "", at(f, 15),
				args(map[string]any{"datepart": "day", "field": "received_at", "interval": 1}))},
			Pos: at(f, 10),
		},
	}
	if diff := cmp.Diff(want, p.Sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	// The table with meta.cdp is also a loadable source, which config reads.
	if _, err := p.Config.Source("tracks"); err != nil {
		t.Error(err)
	}
}

func TestMoreErrors(t *testing.T) {
	_, err := parseFiles(t, map[string]string{
		"tests/a/check.sql": "select 1",
		"tests/b/check.sql": "select 1",
		"models/m.sql":      "select 1",
		"models/s.yml": y(`
models:
  - name: m
    latest_version: 1
    columns:
      - name: id
      - name: id
      - include: all
      - description: no name
`),
	})
	wantErrs(t, err,
		`models/s.yml:3: model "m" has latest_version but no versions:; add the versions or remove latest_version`,
		`models/s.yml:6: column "id" of model "m" is declared twice (first at line 5); merge the two`,
		`models/s.yml:7: include/exclude entries belong in the columns of a version (under versions:), not in those of model "m"`,
		`models/s.yml:8: column entry has no name; add `+"`name:`"+` with the column's name`,
		`tests/b/check.sql:1: test name "check" is used by two files, tests/a/check.sql and tests/b/check.sql; rename one`,
	)
}
