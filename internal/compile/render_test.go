package compile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

const macrosSQL = `{% macro cents_to_dollars(col, scale=2) -%}
    ({{ col }} / 100)::numeric(16, {{ scale }})
{%- endmacro %}

{% macro money(col) -%}
    {{ cents_to_dollars(col, scale=4) }}
{%- endmacro %}

{% macro latest_orders() -%}
    select * from {{ ref('orders') }}
{%- endmacro %}

{% macro payment_methods() %}
    {{ return(['card', 'cash']) }}
{% endmacro %}
`

func TestRender(t *testing.T) {
	orders := mdl("orders", "select 1 as id")
	tests := []struct {
		name    string
		models  []*project.Model
		setup   func(p *project.Project)
		opts    func(o *Options)
		node    string
		want    string
		wantInc string
	}{
		{
			name:   "ref and source",
			models: []*project.Model{orders, mdl("m", "select * from {{ ref('orders') }} join {{ source('raw', 'events') }} using (id)\n")},
			node:   "model.m",
			want:   `select * from "main"."orders" join "raw"."events" using (id)`,
		},
		{
			name:   "source with schema and identifier",
			models: []*project.Model{mdl("m", "select * from {{ source('segment', 'tracks') }}")},
			setup: func(p *project.Project) {
				s := src("segment", "tracks")
				s.Schema, s.Identifier = "seg_prod", "tracks_v2"
				p.Sources = append(p.Sources, s)
			},
			node: "model.m",
			want: `select * from "seg_prod"."tracks_v2"`,
		},
		{
			name:   "source in another database",
			models: []*project.Model{mdl("m", "select * from {{ source('ga', 'events') }} -- {{ source('ga', 'events').database }}")},
			setup: func(p *project.Project) {
				s := src("ga", "events")
				s.Database = "analytics-prod"
				p.Sources = append(p.Sources, s)
			},
			node: "model.m",
			want: `select * from "analytics-prod"."ga"."events" -- analytics-prod`,
		},
		{
			name:   "two-argument ref with the project name",
			models: []*project.Model{orders, mdl("m", "select * from {{ ref('shop', 'orders') }}")},
			node:   "model.m",
			want:   `select * from "main"."orders"`,
		},
		{
			name:   "ref to a seed",
			models: []*project.Model{mdl("m", "select * from {{ ref('countries') }}")},
			setup: func(p *project.Project) {
				p.Seeds = []*project.Seed{{Name: "countries", Path: "seeds/countries.csv", Config: project.Config{Enabled: true, Schema: "ref"}}}
			},
			node: "model.m",
			want: `select * from "main_ref"."countries"`,
		},
		{
			name:   "config renders to nothing",
			models: []*project.Model{mdl("m", "{{ config(materialized='table', unique_key='id') }}\n\nselect 1\n")},
			node:   "model.m",
			want:   "\n\nselect 1",
		},
		{
			name:   "this, custom schema and alias",
			models: []*project.Model{mdl("m", "{{ config(schema='marts', alias='fct_m') }}select '{{ this }}', '{{ this.schema }}', '{{ this.identifier }}', '{{ this.name }}'")},
			node:   "model.m",
			want:   `select '"main_marts"."fct_m"', 'main_marts', 'fct_m', 'fct_m'`,
		},
		{
			name: "ref sees the parent's alias set by its own config()",
			models: []*project.Model{
				mdl("a", "{{ config(alias='alpha', schema='x') }}select 1"),
				mdl("b", "select * from {{ ref('a') }} -- {{ ref('a').schema }}.{{ ref('a').identifier }}"),
			},
			node: "model.b",
			want: `select * from "main_x"."alpha" -- main_x.alpha`,
		},
		{
			name: "is_incremental",
			models: []*project.Model{mdl("m", `{{ config(materialized='incremental', unique_key='id') }}
select * from {{ ref('orders') }}
{% if is_incremental() %}
where updated_at > (select max(updated_at) from {{ this }})
{% endif %}
`), orders},
			node:    "model.m",
			want:    "\nselect * from \"main\".\"orders\"\n",
			wantInc: "\nselect * from \"main\".\"orders\"\n\nwhere updated_at > (select max(updated_at) from \"main\".\"m\")\n",
		},
		{
			name:   "var: project vars, --vars overlay, default",
			models: []*project.Model{mdl("m", "select '{{ var(\"start\") }}', {{ var('limit') }}, '{{ var('missing', 'dflt') }}', {{ var('list') | join(', ') }}")},
			setup: func(p *project.Project) {
				p.Vars = map[string]any{"start": "2020-01-01", "limit": 10, "list": []any{1, 2}}
			},
			opts: func(o *Options) { o.Vars = map[string]any{"limit": 20} },
			node: "model.m",
			want: "select '2020-01-01', 20, 'dflt', 1, 2",
		},
		{
			name:   "env_var and target",
			models: []*project.Model{mdl("m", "select '{{ env_var('CDP_TEST_SCHEMA') }}', '{{ env_var('UNSET_X', 'fallback') }}', '{{ target.name }}', '{{ target.type }}', '{{ target.schema }}'")},
			node:   "model.m",
			want:   "select 'analytics', 'fallback', 'dev', 'duckdb', 'main'",
		},
		{
			name: "set, for, if, comments and whitespace control",
			models: []*project.Model{mdl("m", `{#- a comment -#}
{%- set cols = ['a', 'b', 'c'] -%}
select
{%- for c in cols %}
    {{ c }}{% if not loop.last %},{% endif %}
{%- endfor %}
from t {# trailing #}
{% if var('x', none) is none %}where true{% else %}where false{% endif %}
`)},
			node: "model.m",
			want: "select\n    a,\n    b,\n    c\nfrom t \nwhere true",
		},
		{
			name:   "macros: defaults, keyword args, macros calling macros, ref and return inside macros",
			models: []*project.Model{orders, mdl("m", "select {{ cents_to_dollars('amount') }}, {{ money('fee') }}, {{ cents_to_dollars('x', scale=0) }}\nfrom ({{ latest_orders() }})\nwhere method in ({% for m in payment_methods() %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %})")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/money.sql", Source: macrosSQL}}
			},
			node: "model.m",
			want: "select (amount / 100)::numeric(16, 2), (fee / 100)::numeric(16, 4), (x / 100)::numeric(16, 0)\nfrom (select * from \"main\".\"orders\")\nwhere method in ('card', 'cash')",
		},
		{
			name:   "macro defined in the model",
			models: []*project.Model{mdl("m", "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}select '{{ twice('ab') }}'")},
			node:   "model.m",
			want:   "select 'abab'",
		},
		{
			name:   "config.get",
			models: []*project.Model{mdl("m", "{{ config(materialized='table', partition_by='day') }}select '{{ config.get('materialized') }}', '{{ config.get('partition_by') }}', '{{ config.get('nope', 'd') }}'")},
			node:   "model.m",
			want:   "select 'table', 'day', 'd'",
		},
		{
			name: "versioned refs",
			models: []*project.Model{
				with(mdl("orders_v1", "select 1"), func(m *project.Model) { m.ID, m.Name, m.Version, m.Latest = "orders.v1", "orders", "1", false }),
				with(mdl("orders_v2", "select 2"), func(m *project.Model) { m.ID, m.Name, m.Version, m.Latest = "orders.v2", "orders", "2", true }),
				mdl("m", "{{ ref('orders') }} {{ ref('orders', v=1) }} {{ ref('orders', version=2) }} {{ ref('orders', v='1') }}"),
			},
			node: "model.m",
			want: `"main"."orders_v2" "main"."orders_v1" "main"."orders_v2" "main"."orders_v1"`,
		},
		{
			name: "ephemeral parent becomes a CTE",
			models: []*project.Model{
				with(mdl("e", "select 1 as id"), func(m *project.Model) { m.Config.Materialized = "ephemeral" }),
				mdl("m", "select * from {{ ref('e') }}"),
			},
			node: "model.m",
			want: "with __cdp_ephemeral__e as (\nselect 1 as id\n)\nselect * from __cdp_ephemeral__e",
		},
		{
			name: "ephemeral chain set by config() merges with the model's WITH, each CTE once",
			models: []*project.Model{
				mdl("e1", "{{ config(materialized='ephemeral') }}\nselect 1 as id;\n"),
				mdl("e2", "{{ config(materialized='ephemeral') }}\nselect * from {{ ref('e1') }}"),
				mdl("m", "-- header\nWITH x AS (select * from {{ ref('e2') }})\nselect * from x join {{ ref('e1') }} using (id)"),
			},
			node: "model.m",
			want: "-- header\nWITH __cdp_ephemeral__e1 as (\nselect 1 as id\n), __cdp_ephemeral__e2 as (\nselect * from __cdp_ephemeral__e1\n), x AS (select * from __cdp_ephemeral__e2)\nselect * from x join __cdp_ephemeral__e1 using (id)",
		},
		{
			name: "ephemeral into WITH RECURSIVE",
			models: []*project.Model{
				with(mdl("e", "select 1 as n"), func(m *project.Model) { m.Config.Materialized = "ephemeral" }),
				mdl("m", "with recursive r as (select n from {{ ref('e') }} union all select n + 1 from r where n < 3) select * from r"),
			},
			node: "model.m",
			want: "with recursive __cdp_ephemeral__e as (\nselect 1 as n\n), r as (select n from __cdp_ephemeral__e union all select n + 1 from r where n < 3) select * from r",
		},
		{
			name: "an ephemeral model's own SQL has its ephemeral parents",
			models: []*project.Model{
				with(mdl("e1", "select 1 as id"), func(m *project.Model) { m.Config.Materialized = "ephemeral" }),
				with(mdl("e2", "select * from {{ ref('e1') }}"), func(m *project.Model) { m.Config.Materialized = "ephemeral" }),
			},
			node: "model.e2",
			want: "with __cdp_ephemeral__e1 as (\nselect 1 as id\n)\nselect * from __cdp_ephemeral__e1",
		},
		{
			name:   "custom schema without a base schema",
			models: []*project.Model{with(mdl("m", "select '{{ this }}'"), func(m *project.Model) { m.Config.Schema = "marts" })},
			opts:   func(o *Options) { o.Schema = "" },
			node:   "model.m",
			want:   `select '"marts"."m"'`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proj(tc.models...)
			p.Sources = []*project.SourceTable{src("raw", "events")}
			if tc.setup != nil {
				tc.setup(p)
			}
			opts := testOpts
			if tc.opts != nil {
				tc.opts(&opts)
			}
			r, err := Compile(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			n := r.Nodes[tc.node]
			if n == nil {
				t.Fatalf("no node %s; have %v", tc.node, r.Order)
			}
			if diff := cmp.Diff(tc.want, n.SQL); diff != "" {
				t.Errorf("SQL (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantInc, n.IncrementalSQL); diff != "" {
				t.Errorf("IncrementalSQL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	m := mdl("m", `{{ config(materialized='incremental', unique_key=['id', 'day'], tags=['daily'], schema='marts', alias='m2',
  contract={'enforced': true}, meta={'owner': 'ana'}, incremental_strategy='merge', on_schema_change='fail', partition_by={'field': 'day'}) }}
{{ config(tags='pii') }}
select 1`)
	m.Config.Tags = []string{"core"}
	m.Config.Meta = map[string]any{"team": "data"}
	r := mustCompile(t, proj(m))
	want := project.Config{
		Materialized:        "incremental",
		Schema:              "marts",
		Alias:               "m2",
		Tags:                []string{"core", "daily", "pii"},
		Enabled:             true,
		UniqueKey:           []string{"id", "day"},
		IncrementalStrategy: "merge",
		OnSchemaChange:      "fail",
		ContractEnforced:    true,
		Meta:                map[string]any{"team": "data", "owner": "ana"},
		Extra:               map[string]any{"partition_by": map[string]any{"field": "day"}},
	}
	n := r.Nodes["model.m"]
	if diff := cmp.Diff(want, n.Config); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"core"}, m.Config.Tags); diff != "" {
		t.Errorf("the project's config changed (-want +got):\n%s", diff)
	}
	if got, want := n.Relation.String(), "main_marts.m2"; got != want {
		t.Errorf("Relation = %s, want %s", got, want)
	}
	if v := r.Nodes["model.m"].Config.Materialized; v != "incremental" {
		t.Errorf("materialized %q", v)
	}
	// Default materialization.
	r = mustCompile(t, proj(mdl("v", "select 1")))
	if got := r.Nodes["model.v"].Config.Materialized; got != "view" {
		t.Errorf("default materialized = %q, want view", got)
	}
}

func TestDescriptions(t *testing.T) {
	m := mdl("m", "select 1 as id")
	m.Description = "Orders. {{ doc('orders') }}"
	m.Columns = []*project.Column{
		{Name: "id", DataType: "bigint", Description: "{{ doc('order_id') }}", Pos: config.Pos{File: "models/m.yml", Line: 7}},
		{Name: "plain", Description: "no jinja"},
	}
	p := proj(m)
	p.Docs = map[string]string{"orders": "One row per order.", "order_id": "The order's key."}
	r := mustCompile(t, p)
	n := r.Nodes["model.m"]
	if diff := cmp.Diff("Orders. One row per order.", n.Description); diff != "" {
		t.Errorf("Description (-want +got):\n%s", diff)
	}
	want := []Column{{Name: "id", DataType: "bigint", Description: "The order's key."}, {Name: "plain", Description: "no jinja"}}
	if diff := cmp.Diff(want, n.Columns); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}
}
