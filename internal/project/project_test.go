package project

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
)

func at(file string, line int) config.Pos { return config.Pos{File: file, Line: line} }

// test builds an expected Test with the defaults Parse fills in.
func test(name, column string, pos config.Pos, opts ...func(*Test)) *Test {
	t := &Test{Name: name, Column: column, Severity: "error", Pos: pos}
	for _, o := range opts {
		o(t)
	}
	return t
}

func args(a map[string]any) func(*Test) { return func(t *Test) { t.Args = a } }

func TestLoadJaffle(t *testing.T) {
	p, err := Load("testdata/jaffle", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata/jaffle")
	if p.Dir != dir {
		t.Errorf("Dir = %q, want %q", p.Dir, dir)
	}

	// No cdp.yaml: the config is made from dbt_project.yml.
	wantCfg := &config.Project{
		Dir: dir, Name: "jaffle", DefaultTarget: "dev",
		Targets: map[string]*config.Target{"dev": {
			Name: "dev", Type: "duckdb", Path: filepath.Join(dir, ".cdp", "warehouse.duckdb"), Threads: 4,
			Pos: config.Pos{File: "dbt_project.yml"},
		}},
		Vars: map[string]any{}, Sources: map[string]*config.Source{},
		ModelPaths: []string{"models"}, SeedPaths: []string{"seeds"}, MacroPaths: []string{"macros"},
		SyncPaths: []string{"syncs"},
	}
	if diff := cmp.Diff(wantCfg, p.Config); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}

	const mart, stg, seedYML = "models/marts/schema.yml", "models/staging/schema.yml", "seeds/properties.yml"
	orderID := &Column{
		Name: "order_id", Description: "{{ doc('order_id') }}", Pos: at(mart, 23),
		Tests: []*Test{test("unique", "order_id", at(mart, 25))},
	}
	want := &Project{
		Name:   "jaffle",
		Dir:    dir,
		Config: p.Config,
		Vars:   map[string]any{"start_date": "2024-01-01", "currency": "EUR"},
		Models: []*Model{
			{
				ID: "customers", Name: "customers", Latest: true, Path: "models/marts/customers.sql",
				Description: "One row per customer.",
				Columns: []*Column{
					{Name: "customer_id", DataType: "integer", Pos: at(mart, 13), Tests: []*Test{
						test("unique", "customer_id", at(mart, 15)),
						test("not_null", "customer_id", at(mart, 15)),
					}},
					{Name: "lifetime_value", DataType: "double", Pos: at(mart, 16)},
				},
				Config: Config{
					Materialized: "table", Alias: "dim_customers", Tags: []string{"daily", "pii"}, Enabled: true,
					ContractEnforced: true,
					Meta:             map[string]any{"owner": "analytics", "tier": "gold"},
					Extra:            map[string]any{"persist_docs": map[string]any{"relation": true}},
				},
				Pos: at(mart, 4),
			},
			{
				ID: "orders.v1", Name: "orders", Version: "1", Latest: true, Path: "models/marts/orders_v1.sql",
				Description: "Orders with their payments.",
				Columns: []*Column{
					orderID,
					{Name: "amount", Pos: at(mart, 26)},
					{Name: "legacy_status", Pos: at(mart, 27)},
				},
				Config: Config{
					Materialized: "table", Tags: []string{"daily", "legacy"}, Enabled: true,
					Meta: map[string]any{"owner": "analytics"},
				},
				Pos: at(mart, 29),
			},
			{
				ID: "orders.v2", Name: "orders", Version: "2", Path: "models/marts/orders_v2.sql",
				Description: "Orders without the legacy status, amounts in cents.",
				Columns: []*Column{
					orderID,
					{Name: "amount_cents", Pos: at(mart, 38), Tests: []*Test{test("not_null", "amount_cents", at(mart, 39))}},
				},
				Config: Config{
					Materialized: "incremental", Tags: []string{"daily"}, Enabled: true,
					UniqueKey: []string{"order_id", "order_date"},
					Meta:      map[string]any{"owner": "analytics"},
				},
				Pos: at(mart, 30),
			},
			{
				ID: "stg_customers", Name: "stg_customers", Latest: true, Path: "models/staging/stg_customers.sql",
				Description: `{{ doc("stg_customers") }}`,
				Columns: []*Column{{Name: "customer_id", Pos: at(stg, 28), Tests: []*Test{
					test("unique", "customer_id", at(stg, 30)),
					test("not_null", "customer_id", at(stg, 31)),
				}}},
				Config: Config{Materialized: "view", Schema: "staging", Tags: []string{"nightly"}, Enabled: true},
				Pos:    at(stg, 25),
			},
			{
				ID: "stg_orders", Name: "stg_orders", Latest: true, Path: "models/staging/stg_orders.sql",
				Columns: []*Column{
					{Name: "order_id", Pos: at(stg, 40), Tests: []*Test{
						test("unique", "order_id", at(stg, 41)),
						test("not_null", "order_id", at(stg, 41)),
					}},
					{Name: "status", Pos: at(stg, 42), Tests: []*Test{
						test("accepted_values", "status", at(stg, 44), args(map[string]any{
							"values": []any{"placed", "shipped", "completed", "returned"},
						}), func(t *Test) { t.Severity = "warn" }),
					}},
					{Name: "customer_id", Pos: at(stg, 48), Tests: []*Test{
						test("relationships", "customer_id", at(stg, 50), args(map[string]any{
							"to": "ref('stg_customers')", "field": "customer_id",
						}), func(t *Test) { t.Where = "customer_id is not null" }),
					}},
				},
				Config: Config{
					Materialized: "incremental", Schema: "staging", Tags: []string{"nightly"}, Enabled: true,
					UniqueKey: []string{"order_id"}, IncrementalStrategy: "merge", OnSchemaChange: "append_new_columns",
				},
				Pos: at(stg, 33),
			},
			{
				ID: "stg_payments", Name: "stg_payments", Latest: true, Path: "models/staging/stg_payments.sql",
				Columns: []*Column{
					{Name: "payment_method", Pos: at(stg, 64), Tests: []*Test{
						test("accepted_values", "payment_method", at(stg, 66), args(map[string]any{
							"values": []any{"credit_card", "coupon", "bank_transfer", "gift_card"}, "quote": true,
						})),
					}},
					{Name: "amount", Pos: at(stg, 70), Tests: []*Test{
						test("positive", "amount", at(stg, 72), func(t *Test) { t.CustomName = "payment_amount_positive" }),
					}},
				},
				Tests: []*Test{
					test("dbt_utils.expression_is_true", "", at(stg, 57), args(map[string]any{"expression": "amount >= 0"}),
						func(t *Test) {
							t.Where = "payment_method != 'coupon'"
							t.Config = map[string]any{"limit": 10}
						}),
				},
				Config: Config{Materialized: "view", Schema: "staging", Tags: []string{"nightly"}, Enabled: true},
				Pos:    at(stg, 55),
			},
		},
		Sources: []*SourceTable{
			{
				ID: "raw.customers", Source: "raw", Name: "customers", Schema: "raw", Identifier: "customers",
				LoadedAtField: "_loaded_at",
				Freshness:     &Freshness{WarnAfter: 12 * time.Hour, ErrorAfter: 24 * time.Hour},
				Columns: []*Column{{Name: "id", Pos: at(stg, 13), Tests: []*Test{
					test("unique", "id", at(stg, 14)),
					test("not_null", "id", at(stg, 14)),
				}}},
				Pos: at(stg, 11),
			},
			{
				ID: "raw.orders", Source: "raw", Name: "orders", Schema: "raw", Identifier: "shop_orders",
				LoadedAtField: "ordered_at",
				Freshness:     &Freshness{WarnAfter: 30 * time.Minute, ErrorAfter: 24 * time.Hour, Filter: "ordered_at > current_date - 3"},
				Pos:           at(stg, 15),
			},
			{
				ID: "raw.payments", Source: "raw", Name: "payments", Schema: "raw", Identifier: "payments",
				LoadedAtField: "_loaded_at", Pos: at(stg, 21),
			},
		},
		Seeds: []*Seed{
			{
				Name: "country_codes", Path: "seeds/country_codes.csv",
				Config:      Config{Schema: "seeds", Enabled: true},
				ColumnTypes: map[string]string{"code": "varchar(2)"},
				Pos:         at("seeds/country_codes.csv", 1),
			},
			{
				Name: "payment_methods", Path: "seeds/payment_methods.csv",
				Config:      Config{Schema: "seeds", Enabled: true, Extra: map[string]any{"delimiter": ","}},
				ColumnTypes: map[string]string{"id": "integer"},
				Description: "Payment methods we accept.",
				Columns:     []*Column{{Name: "id", Pos: at(seedYML, 10), Tests: []*Test{test("unique", "id", at(seedYML, 11))}}},
				Pos:         at(seedYML, 4),
			},
		},
		Macros: []*MacroFile{
			{Path: "macros/cents.sql", Source: "{% macro cents_to_dollars(column) -%}\n    ({{ column }} / 100.0)\n{%- endmacro %}\n"},
			{Path: "tests/generic/positive.sql", Source: "{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} < 0\n{% endtest %}\n"},
		},
		Tests: []*SingularTest{{
			Name: "assert_order_amounts", Path: "tests/assert_order_amounts.sql",
			SQL: "-- Every order's amount is the sum of its payments.\nselect order_id\nfrom {{ ref('orders') }}\nwhere amount < 0\n",
		}},
		Docs: map[string]string{
			"stg_customers": "One row per customer, **renamed** from the raw table.",
			"order_id":      "The order's id, unique.",
		},
		Paths: Paths{
			Models: []string{"models"}, Seeds: []string{"seeds"}, Macros: []string{"macros"}, Tests: []string{"tests"},
			Docs: []string{"models", "seeds", "macros", "tests"},
		},
	}
	// The SQL is checked apart, against the files, to keep the expectation readable.
	for _, m := range p.Models {
		if m.SQL == "" {
			t.Errorf("model %s: empty SQL", m.ID)
		}
		m.SQL = ""
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
}

func TestLoadJaffleSQL(t *testing.T) {
	p, err := Load("testdata/jaffle", nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "{{ config(materialized='incremental') }}\n\nselect\n    id as order_id,\n    user_id as customer_id,\n    order_date,\n    status\nfrom {{ source('raw', 'orders') }}\n{% if is_incremental() %}\nwhere order_date > (select max(order_date) from {{ this }})\n{% endif %}\n"
	for _, m := range p.Models {
		if m.ID == "stg_orders" && m.SQL != want {
			t.Errorf("stg_orders SQL = %q, want the file as written:\n%q", m.SQL, want)
		}
	}
}
