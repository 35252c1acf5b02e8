package project

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/cdp-dev/cdp/internal/config"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		wants []string
	}{
		{"property entry without SQL file",
			map[string]string{
				"models/staging/stg_orders.sql": "select 1",
				"models/schema.yml":             "version: 2\nmodels:\n  - name: stg_order\n  - name: ghost\n",
			},
			[]string{
				`models/schema.yml:3: model "stg_order" has no SQL file; did you mean stg_orders?`,
				`models/schema.yml:4: model "ghost" has no SQL file; create models/ghost.sql or fix the name`,
			}},
		{"property entry for a seed",
			map[string]string{"seeds/countries.csv": "a\n1\n", "models/s.yml": "models:\n  - name: countries\n"},
			[]string{`models/s.yml:2: model "countries" has no SQL file, but there is a seed by that name; describe it under seeds: instead of models:`}},
		{"duplicate model names",
			map[string]string{"models/a/orders.sql": "select 1", "models/b/orders.sql": "select 2"},
			[]string{`models/b/orders.sql:1: model name "orders" is used by two files, models/a/orders.sql and models/b/orders.sql; rename one (model names are unique across folders, so that ref('orders') names one model)`}},
		{"model described in two files",
			map[string]string{
				"models/m.sql":     "select 1",
				"models/a.yml":     "models:\n  - name: m\n",
				"models/sub/b.yml": "version: 2\nmodels:\n  - name: m\n    description: again\n",
			},
			[]string{`models/sub/b.yml:3: model "m" is described twice, here and at models/a.yml:2; merge the two entries into one`}},
		{"materialized",
			map[string]string{
				"models/m.sql": "select 1",
				"models/s.yml": "models:\n  - name: m\n    config:\n      materialized: tabel\n",
			},
			[]string{`models/s.yml:4: materialized "tabel" is not supported; did you mean "table"? (allowed: view, table, incremental, ephemeral, identity, audience)`}},
		{"incremental settings",
			map[string]string{
				"models/m.sql": "select 1",
				"models/s.yml": y(`
models:
  - name: m
    config:
      materialized: incremental
      incremental_strategy: insert_overwrite
      on_schema_change: sync
`),
			},
			[]string{
				`models/s.yml:5: incremental_strategy "insert_overwrite" is not supported; use one of append, merge, delete+insert`,
				`models/s.yml:6: on_schema_change "sync" is not supported; use one of ignore, fail, append_new_columns, sync_all_columns`,
			}},
		{"misspelled keys",
			map[string]string{
				"models/m.sql": "select 1",
				"models/s.yml": y(`
version: 2
model:
  - name: x
models:
  - name: m
    descripton: typo
    colums:
      - name: id
    columns:
      - name: id
        test: [unique]
        data_types: int
    config:
      materialised: table
      uniq_key: id
`),
			},
			[]string{
				`models/s.yml:2: unknown key "model"; did you mean "models"?`,
				`models/s.yml:6: unknown key "descripton" in model "m"; did you mean "description"?`,
				`models/s.yml:7: unknown key "colums" in model "m"; did you mean "columns"?`,
				`models/s.yml:11: unknown key "test" in model "m" column "id"; did you mean "tests"?`,
				`models/s.yml:12: unknown key "data_types" in model "m" column "id"; did you mean "data_type"?`,
				`models/s.yml:14: unknown key "materialised" in model "m" config; did you mean "materialized"?`,
				`models/s.yml:15: unknown key "uniq_key" in model "m" config; did you mean "unique_key"?`,
			}},
		{"tests and data_tests",
			map[string]string{
				"models/m.sql": "select 1",
				"models/s.yml": "models:\n  - name: m\n    tests: [a]\n    data_tests: [b]\n",
			},
			[]string{`models/s.yml:4: model "m" has both tests: and data_tests: (line 3); they are the same list, data_tests being the newer name: keep one`}},
		{"test forms",
			map[string]string{
				"models/m.sql": "select 1",
				"models/s.yml": y(`
models:
  - name: m
    columns:
      - name: status
        tests:
          - accepted_values:
            values: [a, b]
          - accepted_values: {quote: false}
          - relationships: {to: ref('x')}
          - not_nul
          - unique: {config: {severity: fatal, severty: warn}}
          - unique: [a]
`),
			},
			[]string{
				`models/s.yml:6: test accepted_values has its arguments (values) at its own indentation; indent them under accepted_values:`,
				`models/s.yml:8: test accepted_values on column status needs values; add it under the test: values: [a, b]`,
				`models/s.yml:9: test relationships on column status needs field; add it under the test: field: the_other_models_column`,
				`models/s.yml:10: unknown test "not_nul" on column status; did you mean "not_null"? (no macro defines a test named not_nul)`,
				`models/s.yml:11: unknown key "severty" in model "m" column "status" tests unique config; did you mean "severity"?`,
				`models/s.yml:11: severity "fatal" is not supported; use error or warn`,
				`models/s.yml:12: the arguments of test unique must be a mapping (name: value lines under it), got a list`,
			}},
		{"versions",
			map[string]string{
				"models/orders_v1.sql": "select 1",
				"models/orders.sql":    "select 1",
				"models/s.yml": y(`
models:
  - name: orders
    latest_version: 3
    columns:
      - name: id
      - name: amount
    versions:
      - v: 1
        columns:
          - include: [id, amont]
            exclude: [amount]
      - v: 2
      - v: 1
`),
			},
			[]string{
				// Version 2, the highest, is the latest, so orders.sql may hold it.
				`models/s.yml:3: latest_version 3 of model "orders" is not one of its versions (1, 2); add it under versions: or fix the number`,
				`models/s.yml:10: include lists column "amont", which model "orders" does not declare in its columns; did you mean "amount"?`,
				`models/s.yml:11: exclude only works with include: all; list the columns to keep in include, or set include: all`,
				`models/s.yml:13: version 1 of model "orders" is declared twice (first at line 8); remove one`,
			}},
		{"version files",
			map[string]string{
				"models/orders_v1.sql": "select 1",
				"models/orders.sql":    "select 1",
				"models/s.yml":         "models:\n  - name: orders\n    latest_version: 1\n    versions: [{v: 1}, {v: 2}, {v: 3, defined_in: orders_v1}]\n",
			},
			[]string{
				`models/orders.sql:1: model "orders" is versioned (models/s.yml:2), but no version is defined in this file; rename it to orders_v<version>.sql, or set defined_in: orders on the version it holds`,
				`models/s.yml:4: version 2 of model "orders" has no SQL file orders_v2.sql; create models/orders_v2.sql or set defined_in: to the name of the file that has it (without .sql)`,
				`models/s.yml:4: version 3 of model "orders": models/orders_v1.sql is the SQL file of orders.v1 already; give each version its own file`,
			}},
		{"sources",
			map[string]string{"models/s.yml": y(`
sources:
  - name: raw
    freshness:
      warn_after: {count: 0, period: hour}
      error_after: {count: 2, period: hours}
    tables:
      - name: events
        freshnes: {warn_after: {count: 1, period: day}}
      - name: events
  - name: raw
    tables: [{name: other}]
`)},
			[]string{
				`models/s.yml:4: source "raw".freshness.warn_after.count must be a positive whole number, got 0`,
				`models/s.yml:5: source "raw".freshness.error_after.period "hours" is not supported; did you mean "hour"? (allowed: minute, hour, day)`,
				`models/s.yml:8: unknown key "freshnes" in source table "raw.events"; did you mean "freshness"?`,
				`models/s.yml:9: source table raw.events is declared twice, here and at models/s.yml:7; remove one`,
				`models/s.yml:10: source "raw" is declared twice, here and at models/s.yml:2; list all its tables under one entry`,
			}},
		{"docs",
			map[string]string{
				"models/m.sql":    "select 1",
				"models/s.yml":    "models:\n  - name: m\n    description: '{{ doc(\"m_docs\") }}'\n    columns:\n      - {name: id, description: \"{{ doc('nothing') }}\"}\n",
				"models/a.md":     "{% docs m_doc %}x{% enddocs %}\n\n{% docs open %}\nno end\n",
				"models/sub/b.md": "\n{% docs m_doc %}again{% enddocs %}",
			},
			[]string{
				`models/a.md:3: docs block "open" is not closed; end it with {% enddocs %}`,
				`models/s.yml:3: description uses doc('m_docs'), which no docs block defines; did you mean "m_doc"?`,
				`models/s.yml:5: description uses doc('nothing'), which no docs block defines; add {% docs nothing %}...{% enddocs %} to a .md file under models`,
				`models/sub/b.md:2: docs block "m_doc" is defined twice, here and at models/a.md:1; rename or remove one`,
			}},
		{"seeds",
			map[string]string{
				"seeds/countries.csv":  "a\n1\n",
				"models/countries.sql": "select 1",
				"seeds/s.yml":          "seeds:\n  - name: countrys\n  - name: countries\n    config: {column_types: {a: int}}\n",
			},
			[]string{
				`seeds/countries.csv:1: seed "countries" has the same name as model countries (models/countries.sql), so ref('countries') would be ambiguous; rename one`,
				`seeds/s.yml:2: seed "countrys" has no CSV file; did you mean countries?`,
			}},
		{"YAML syntax error reported once",
			map[string]string{"models/s.yml": "models:\n  - name: [\n"},
			[]string{`models/s.yml:2: invalid YAML: did not find expected node content`}},
		{"dbt_project.yml",
			map[string]string{
				"models/staging/a.sql": "select 1",
				"dbt_project.yml": y(`
name: shop
model_paths: [models]
vars: {x: 1}
models:
  shp:
    +materialized: table
  shop:
    +materialized: tables
    materialised: view
    staging:
      +on_schema_change: nope
`),
			},
			[]string{
				`dbt_project.yml:2: unknown key "model_paths"; did you mean "model-paths"?`,
				`dbt_project.yml:5: models.shp names no project; did you mean "shop", the project's name? (configs under it apply to nothing)`,
				`dbt_project.yml:8: materialized "tables" is not supported; did you mean "table"? (allowed: view, table, incremental, ephemeral, identity, audience)`,
				`dbt_project.yml:9: unknown config "materialised" in models.shop; did you mean "+materialized"?`,
				`dbt_project.yml:11: on_schema_change "nope" is not supported; use one of ignore, fail, append_new_columns, sync_all_columns`,
			}},
		{"dbt project without a name",
			map[string]string{"dbt_project.yml": "profile: x\n"},
			[]string{`dbt_project.yml:1: the dbt project has no name; add ` + "`name: my_project`" + ` to dbt_project.yml`}},
		{"errors in cdp.yaml and in models together",
			map[string]string{
				"cdp.yaml":     "name: shop\ntagret: prod\n",
				"models/s.yml": "models:\n  - name: m\n",
			},
			[]string{
				`cdp.yaml:2: unknown key "tagret"; did you mean "target"?`,
				`models/s.yml:2: model "m" has no SQL file; create models/m.sql or fix the name`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(t, tt.files)
			wantErrs(t, err, tt.wants...)
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want config.Errors", err)
			}
			if len(errs) != len(tt.wants) {
				t.Errorf("got %d errors, want %d:\n%v", len(errs), len(tt.wants), err)
			}
		})
	}
}

func TestNoProject(t *testing.T) {
	_, err := Parse(fstest.MapFS{"models/a.sql": {Data: []byte("select 1")}}, testDir, nil)
	if !errors.Is(err, config.ErrNoProject) {
		t.Fatalf("err = %v, want one matching config.ErrNoProject", err)
	}
}

func TestWarnings(t *testing.T) {
	p := mustParse(t, map[string]string{
		"models/staging/a.sql": "select 1",
		"models/staging/py.py": "def model(dbt, session): pass",
		"seeds/countries.csv":  "a\n",
		"dbt_project.yml": y(`
name: shop
models:
  +tags: [all]
  dbt_utils:
    +enabled: false
  shop:
    stagin:
      +schema: s
    staging:
      a:
        +alias: b
      meta:
        owner: me
seeds:
  shop:
    countries:
      +enabled: false
`),
	})
	var got []string
	for _, w := range p.Warnings {
		got = append(got, w.Error())
	}
	want := []string{
		`dbt_project.yml:4: models.dbt_utils matches no model, so its configs apply to nothing; cdp does not install dbt packages, and this project is named "shop"`,
		`dbt_project.yml:7: models.shop.stagin matches no model, so its configs apply to nothing; did you mean "staging"?`,
		`dbt_project.yml:12: models.shop.staging.meta matches no model, so its configs apply to nothing; if meta is meant as a config, write it as +meta`,
		`models/staging/py.py:1: Python models are not supported by cdp; this file is ignored (rewrite it as a .sql model)`,
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", joinLines(got), joinLines(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("warning %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	if m := model(t, p, "a"); m.Config.Alias != "b" || m.Config.Tags[0] != "all" {
		t.Errorf("model a config = %+v, want alias b and tag all", m.Config)
	}
	if p.Seeds[0].Config.Enabled {
		t.Errorf("seed countries enabled, want disabled by dbt_project.yml")
	}
}

func joinLines(l []string) string {
	s := ""
	for _, x := range l {
		s += "\t" + x + "\n"
	}
	return s
}
