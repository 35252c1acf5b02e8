package compile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

func yml(line int) config.Pos { return config.Pos{File: "models/schema.yml", Line: line} }

func colTests(m *project.Model, col string, tests ...*project.Test) *project.Model {
	m.Columns = append(m.Columns, &project.Column{Name: col, Tests: tests})
	return m
}

func TestGenericTests(t *testing.T) {
	type want struct {
		id, sql, of, severity string
		deps, sources         []string
	}
	tests := []struct {
		name   string
		models []*project.Model
		setup  func(p *project.Project)
		want   []want
	}{
		{
			name:   "not_null and unique",
			models: []*project.Model{colTests(mdl("orders", "select 1 as id"), "id", &project.Test{Name: "not_null", Pos: yml(5)}, &project.Test{Name: "unique", Pos: yml(6)})},
			want: []want{
				{id: "test.not_null_orders_id", sql: `SELECT * FROM "main"."orders" WHERE "id" IS NULL`, of: "model.orders", deps: []string{"model.orders"}},
				{id: "test.unique_orders_id", sql: `SELECT "id", count(*) AS n FROM "main"."orders" WHERE "id" IS NOT NULL GROUP BY "id" HAVING count(*) > 1`, of: "model.orders", deps: []string{"model.orders"}},
			},
		},
		{
			name: "accepted_values, quoted and not, with where and severity",
			models: []*project.Model{colTests(mdl("orders", "select 1"), "status",
				&project.Test{Name: "accepted_values", Args: map[string]any{"values": []any{"placed", "it's"}}, Where: "created_at > '{{ var(\"since\", \"2020-01-01\") }}'", Severity: "warn"},
			), colTests(mdl("items", "select 1"), "qty",
				&project.Test{Name: "accepted_values", Args: map[string]any{"values": []any{1, 2}, "quote": false}},
			)},
			want: []want{
				{id: "test.accepted_values_items_qty", sql: `SELECT "qty", count(*) AS n FROM "main"."items" WHERE "qty" IS NOT NULL AND "qty" NOT IN (1, 2) GROUP BY "qty"`, of: "model.items", deps: []string{"model.items"}},
				{id: "test.accepted_values_orders_status", sql: `SELECT "status", count(*) AS n FROM (SELECT * FROM "main"."orders" WHERE created_at > '2020-01-01') AS filtered WHERE "status" IS NOT NULL AND "status" NOT IN ('placed', 'it''s') GROUP BY "status"`, of: "model.orders", severity: "warn", deps: []string{"model.orders"}},
			},
		},
		{
			name: "relationships to a model and to a source",
			models: []*project.Model{
				mdl("customers", "select 1 as id"),
				colTests(mdl("orders", "select 1"), "customer_id",
					&project.Test{Name: "relationships", Args: map[string]any{"to": "ref('customers')", "field": "id"}},
					&project.Test{Name: "relationships", Args: map[string]any{"to": "source('raw', 'events')", "field": "user_id"}, Where: "id > 0"},
				),
			},
			want: []want{
				{id: "test.relationships_orders_customer_id", sql: `SELECT child."customer_id" FROM "main"."orders" AS child LEFT JOIN "main"."customers" AS parent ON child."customer_id" = parent."id" WHERE child."customer_id" IS NOT NULL AND parent."id" IS NULL`, of: "model.orders", deps: []string{"model.customers", "model.orders"}},
				{id: "test.relationships_orders_customer_id_2", sql: `SELECT child."customer_id" FROM (SELECT * FROM "main"."orders" WHERE id > 0) AS child LEFT JOIN "raw"."events" AS parent ON child."customer_id" = parent."user_id" WHERE child."customer_id" IS NOT NULL AND parent."user_id" IS NULL`, of: "model.orders", deps: []string{"model.orders"}, sources: []string{"raw.events"}},
			},
		},
		{
			name:   "identical tests are one test",
			models: []*project.Model{colTests(mdl("orders", "select 1"), "id", &project.Test{Name: "not_null"}, &project.Test{Name: "not_null"})},
			want:   []want{{id: "test.not_null_orders_id", sql: `SELECT * FROM "main"."orders" WHERE "id" IS NULL`, of: "model.orders", deps: []string{"model.orders"}}},
		},
		{
			name: "source tests, model-level test with column_name",
			models: []*project.Model{with(mdl("orders", "select 1"), func(m *project.Model) {
				m.Tests = []*project.Test{{Name: "unique", Args: map[string]any{"column_name": "id"}}}
			})},
			setup: func(p *project.Project) {
				p.Sources[0].Columns = []*project.Column{{Name: "message_id", Tests: []*project.Test{{Name: "not_null"}}}}
			},
			want: []want{
				{id: "test.not_null_raw_events_message_id", sql: `SELECT * FROM "raw"."events" WHERE "message_id" IS NULL`, of: "source.raw.events", sources: []string{"raw.events"}},
				{id: "test.unique_orders", sql: `SELECT "id", count(*) AS n FROM "main"."orders" WHERE "id" IS NOT NULL GROUP BY "id" HAVING count(*) > 1`, of: "model.orders", deps: []string{"model.orders"}},
			},
		},
		{
			name: "custom tests: {% test %} blocks and test_ macros, with arguments",
			models: []*project.Model{
				mdl("customers", "select 1 as id"),
				colTests(mdl("orders", "select 1"), "amount",
					&project.Test{Name: "positive"},
					&project.Test{Name: "at_most", Args: map[string]any{"limit": 100}, Where: "amount is not null"},
					&project.Test{Name: "in_model", Args: map[string]any{"other": "customers"}},
				),
			},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/tests.sql", Source: `{% test positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} < 0
{% endtest %}

{%- macro test_at_most(model, column_name, limit) -%}
select * from {{ model }} where {{ column_name }} > {{ limit }};
{%- endmacro %}
`}}
				p.Tests = []*project.SingularTest{{Name: "in_model", Path: "tests/generic/in_model.sql", SQL: "{% test in_model(model, column_name, other) %}select {{ column_name }} from {{ model }} except select id from {{ ref(other) }}{% endtest %}"}}
			},
			want: []want{
				{id: "test.at_most_orders_amount", sql: `select * from (SELECT * FROM "main"."orders" WHERE amount is not null) AS filtered where amount > 100`, of: "model.orders", deps: []string{"model.orders"}},
				{id: "test.in_model_orders_amount", sql: `select amount from "main"."orders" except select id from "main"."customers"`, of: "model.orders", deps: []string{"model.customers", "model.orders"}},
				{id: "test.positive_orders_amount", sql: `select * from "main"."orders" where amount < 0`, of: "model.orders", deps: []string{"model.orders"}},
			},
		},
		{
			name: "dbt_utils tests cdp implements, and a package test a project macro stands in for",
			models: []*project.Model{with(colTests(mdl("pay", "select 1"), "amount",
				&project.Test{Name: "dbt_utils.expression_is_true", Args: map[string]any{"expression": ">= 0"}},
				&project.Test{Name: "dbt_utils.accepted_range", Args: map[string]any{"min_value": 0, "max_value": 100, "inclusive": false}},
			), func(m *project.Model) {
				m.Tests = []*project.Test{
					{Name: "dbt_utils.expression_is_true", Args: map[string]any{"expression": "amount >= fee"}, Where: "kind = 'card'"},
					{Name: "dbt_utils.unique_combination_of_columns", Args: map[string]any{"combination_of_columns": []any{"id", "day"}}},
					{Name: "dbt_expectations.positive"},
				}
			})},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/positive.sql", Source: "{% test positive(model) %}select * from {{ model }} where amount < 0{% endtest %}"}}
			},
			want: []want{
				{id: "test.dbt_expectations_positive_pay", sql: `select * from "main"."pay" where amount < 0`, of: "model.pay", deps: []string{"model.pay"}},
				{id: "test.dbt_utils_accepted_range_pay_amount", sql: `SELECT * FROM "main"."pay" WHERE NOT ("amount" > 0 AND "amount" < 100)`, of: "model.pay", deps: []string{"model.pay"}},
				{id: "test.dbt_utils_expression_is_true_pay", sql: `SELECT * FROM (SELECT * FROM "main"."pay" WHERE kind = 'card') AS filtered WHERE NOT (amount >= fee)`, of: "model.pay", deps: []string{"model.pay"}},
				{id: "test.dbt_utils_expression_is_true_pay_amount", sql: `SELECT * FROM "main"."pay" WHERE NOT (amount >= 0)`, of: "model.pay", deps: []string{"model.pay"}},
				{id: "test.dbt_utils_unique_combination_of_columns_pay", sql: `SELECT id, day, count(*) AS n FROM "main"."pay" GROUP BY id, day HAVING count(*) > 1`, of: "model.pay", deps: []string{"model.pay"}},
			},
		},
		{
			name: "singular tests with ref, source and config(severity)",
			models: []*project.Model{
				mdl("orders", "select 1"),
			},
			setup: func(p *project.Project) {
				p.Tests = []*project.SingularTest{
					{Name: "no_future_orders", Path: "tests/no_future_orders.sql", SQL: "{{ config(severity='warn') }}\nselect * from {{ ref('orders') }} where ts > now()\n;\n"},
					{Name: "events_have_ids", Path: "tests/events_have_ids.sql", SQL: "select * from {{ source('raw', 'events') }} where id is null"},
				}
			},
			want: []want{
				{id: "test.events_have_ids", sql: `select * from "raw"."events" where id is null`, sources: []string{"raw.events"}},
				{id: "test.no_future_orders", sql: `select * from "main"."orders" where ts > now()`, severity: "warn", deps: []string{"model.orders"}},
			},
		},
		{
			name:   "tests on an ephemeral model inline it",
			models: []*project.Model{colTests(with(mdl("e", "select 1 as id"), func(m *project.Model) { m.Config.Materialized = "ephemeral" }), "id", &project.Test{Name: "not_null"})},
			want:   []want{{id: "test.not_null_e_id", sql: "with __cdp_ephemeral__e as (\nselect 1 as id\n)\nSELECT * FROM __cdp_ephemeral__e WHERE \"id\" IS NULL", of: "model.e", deps: []string{"model.e"}}},
		},
		{
			name: "tests of a disabled model are skipped",
			models: []*project.Model{
				colTests(mdl("off", "{{ config(enabled=false) }}select 1"), "id", &project.Test{Name: "not_null"}),
				colTests(with(mdl("off2", "select 1"), func(m *project.Model) { m.Config.Enabled = false }), "id", &project.Test{Name: "not_null"}),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proj(tc.models...)
			p.Sources = []*project.SourceTable{src("raw", "events")}
			if tc.setup != nil {
				tc.setup(p)
			}
			r := mustCompile(t, p)
			var got []want
			for _, id := range sortedKeys(r.Nodes) {
				n := r.Nodes[id]
				if n.Kind != KindTest {
					continue
				}
				w := want{id: n.ID, sql: n.SQL, of: n.TestOf, deps: n.DependsOn, sources: n.Sources}
				if n.Severity != "error" {
					w.severity = n.Severity
				}
				if len(w.deps) == 0 {
					w.deps = nil
				}
				if len(w.sources) == 0 {
					w.sources = nil
				}
				got = append(got, w)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("tests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTestErrors(t *testing.T) {
	tests := []struct {
		name string
		test *project.Test
		want string
	}{
		{"unknown", &project.Test{Name: "not_empty", Pos: yml(14)}, `models/schema.yml:14: unknown test "not_empty"; built-in tests are not_null, unique, accepted_values, relationships; or define {% test not_empty(model, column_name) %} under macros/`},
		{"typo", &project.Test{Name: "not_nul", Pos: yml(14)}, `models/schema.yml:14: unknown test "not_nul"; did you mean not_null? built-in tests are not_null, unique, accepted_values, relationships`},
		{"package test", &project.Test{Name: "dbt_utils.at_least_one", Pos: yml(14)}, `models/schema.yml:14: unknown test "dbt_utils.at_least_one": cdp does not install dbt packages (dbt_utils); define {% test at_least_one(model, column_name) %} under macros/ and it is used for dbt_utils.at_least_one too`},
		{"accepted_values without values", &project.Test{Name: "accepted_values", Pos: yml(9)}, `models/schema.yml:9: test accepted_values needs values: a list of the allowed values, e.g. values: ['placed', 'shipped']`},
		{"relationships without field", &project.Test{Name: "relationships", Args: map[string]any{"to": "ref('x')"}, Pos: yml(9)}, `models/schema.yml:9: test relationships needs to: and field:, e.g. to: ref('customers') and field: id`},
		{"relationships to an unknown model", &project.Test{Name: "relationships", Args: map[string]any{"to": "ref('customer')", "field": "id"}, Pos: yml(9)}, `models/schema.yml:9: test relationships: ref('customer') not found; did you mean customers?`},
		{"relationships to a bare name", &project.Test{Name: "relationships", Args: map[string]any{"to": "customers", "field": "id"}, Pos: yml(9)}, `models/schema.yml:9: test relationships: to: customers should be ref('customers') or source('...', '...')`},
		{"custom test with an unknown argument", &project.Test{Name: "positive", Args: map[string]any{"strict": true}, Pos: yml(11)}, `models/schema.yml:11: test positive has argument strict but its macro test_positive (macros/t.sql:1) does not take it`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proj(mdl("customers", "select 1 as id"), colTests(mdl("orders", "select 1"), "customer_id", tc.test))
			p.Macros = []*project.MacroFile{{Path: "macros/t.sql", Source: "{% test positive(model, column_name) %}select 1{% endtest %}"}}
			if diff := cmp.Diff(tc.want, compileErr(t, p)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}
