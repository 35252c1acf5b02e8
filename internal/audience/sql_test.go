package audience

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixtureNow is the run time of the compile tests: the fixture's timestamps are around it.
var fixtureNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// fixture creates profiles, profile_events and a churned audience:
//
//	p1  spend 250, pro, marketing consent, 2 orders in the last 30 days (150 USD, 100 EUR)
//	p2  spend 50, free, one old order of 300, churned
//	p3  spend 120, enterprise, no email, a Product Added yesterday
//	p4  spend 0, no traits, an order with a non-numeric revenue and one after the run time
func fixture(t testing.TB) warehouse.Warehouse {
	wh := openWH(t)
	mustExec(t, wh, `CREATE TABLE main.profiles AS SELECT * FROM (VALUES
		('p1', 'a@example.com', 250.0::DOUBLE, TIMESTAMPTZ '2026-10-29 00:00:00+00', '{"plan":"pro","consent":{"marketing":true},"age":35}'::JSON, 2),
		('p2', 'b@example.com', 50.0, TIMESTAMPTZ '2026-09-22 00:00:00+00', '{"plan":"free","consent":{"marketing":false}}'::JSON, 1),
		('p3', NULL, 120.0, NULL, '{"plan":"enterprise","age":41}'::JSON, 0),
		('p4', 'd@example.org', 0.0, NULL, '{}'::JSON, 0)
	) AS t(profile_id, email, total_spend, last_order_at, traits, total_orders)`)
	mustExec(t, wh, `CREATE TABLE main.profile_events AS SELECT profile_id, event, "timestamp", properties::JSON AS properties FROM (VALUES
		('p1', 'Order Completed', TIMESTAMPTZ '2026-10-30 00:00:00+00', '{"revenue":150,"currency":"USD"}'),
		('p1', 'Order Completed', TIMESTAMPTZ '2026-10-22 00:00:00+00', '{"revenue":100,"currency":"EUR"}'),
		('p1', 'Page Viewed', TIMESTAMPTZ '2026-10-31 00:00:00+00', '{}'),
		('p2', 'Order Completed', TIMESTAMPTZ '2026-09-27 00:00:00+00', '{"revenue":300,"currency":"USD"}'),
		('p3', 'Product Added', TIMESTAMPTZ '2026-10-31 00:00:00+00', '{"product_id":"x","price":20}'),
		('p4', 'Order Completed', TIMESTAMPTZ '2026-10-31 00:00:00+00', '{"revenue":"abc"}'),
		('p4', 'Order Completed', TIMESTAMPTZ '2026-11-02 00:00:00+00', '{"revenue":999}')
	) AS t(profile_id, event, "timestamp", properties)`)
	mustExec(t, wh, `CREATE TABLE main.churned AS SELECT 'p2' AS profile_id`)
	return wh
}

func compileFixture(t testing.TB, wh warehouse.Warehouse, rules string) (string, error) {
	t.Helper()
	spec, err := Parse(rulesOf(t, rules))
	if err != nil {
		return "", err
	}
	pop := `select * from "main"."profiles"`
	cols, err := columnsOf(context.Background(), wh, pop)
	if err != nil {
		t.Fatal(err)
	}
	return Compile(spec, Input{
		Dialect: duckdb.Dialect{}, Population: pop, Columns: cols, Events: `"main"."profile_events"`,
		Audiences: map[string]string{"churned": `"main"."churned"`}, Now: fixtureNow,
	})
}

// TestCompile compiles rules to golden SQL and runs it on the fixture.
func TestCompile(t *testing.T) {
	wh := fixture(t)
	tests := []struct {
		name  string
		rules string
		want  []string // the audience's rows, ordered by profile_id
	}{
		{"everyone", `{}`, []string{
			"p1|a@example.com|250|2026-10-29T00:00:00Z|map[age:35 consent:map[marketing:true] plan:pro]|2",
			"p2|b@example.com|50|2026-09-22T00:00:00Z|map[consent:map[marketing:false] plan:free]|1",
			"p3|NULL|120|NULL|map[age:41 plan:enterprise]|0",
			"p4|d@example.org|0|NULL|map[]|0"}},
		{"column_include", `{include: [email, total_spend], where: {column: total_spend, op: ">=", value: 100}}`,
			[]string{"p1|a@example.com|250", "p3|NULL|120"}},
		{"brief_example", `
include: [profile_id, email, total_spend]
where:
  all:
    - {column: total_spend, op: ">=", value: 100}
    - {trait: plan, op: in, value: [pro, enterprise]}
    - {event: "Order Completed", count: {op: ">=", value: 2}, within: 30d}
    - {event: "Order Completed", sum: revenue, op: ">=", value: 200, within: 30d}
    - not: {audience: churned}
    - any:
        - {column: email, op: contains, value: "@example.com"}
        - {trait: consent.marketing, op: "=", value: true}
`, []string{"p1|a@example.com|250"}},
		{"missing_values", `
include: [email]
where:
  any:
    - {column: email, op: is_null}
    - {trait: plan, op: not_in, value: [pro, free, enterprise]}
`, []string{"p3|NULL", "p4|d@example.org"}},
		{"not_equal_matches_missing", `{include: [], where: {trait: consent.marketing, op: "!=", value: true}}`, []string{"p2", "p3", "p4"}},
		{"events", `
include: [email]
where:
  any:
    - {event: [Product Added, Checkout Started], within: 7d}
    - {event: Order Completed, within: 7d, where: {property: currency, op: "=", value: USD}}
`, []string{"p1|a@example.com", "p3|NULL"}},
		{"event_sum_ignores_bad_and_future", `{include: [email], where: {event: Order Completed, sum: revenue, op: "<", value: 1}}`,
			[]string{"p3|NULL", "p4|d@example.org"}},
		{"event_max_missing_matches_nothing", `{include: [email], where: {not: {event: Order Completed, max: revenue, op: ">", value: 120}}}`,
			[]string{"p3|NULL", "p4|d@example.org"}},
		{"count_zero", `{include: [email], where: {event: Order Completed, count: {op: "=", value: 0}}}`,
			[]string{"p3|NULL"}},
		{"timestamps", `
include: [last_order_at]
where:
  any:
    - {column: last_order_at, within: 7d}
    - {column: last_order_at, op: "<", value: "2026-10-01"}
`, []string{"p1|2026-10-29T00:00:00Z", "p2|2026-09-22T00:00:00Z"}},
		{"numbers_from_traits", `{include: [email], where: {trait: age, op: ">", value: 40}}`, []string{"p3|NULL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql, err := compileFixture(t, wh, tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "compile", tc.name+".sql"), sql)
			got := queryStrings(t, wh, "SELECT * FROM ("+sql+") ORDER BY profile_id")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompileErrors checks that problems found against the population name the rule and the fix.
func TestCompileErrors(t *testing.T) {
	wh := fixture(t)
	tests := []struct{ rules, want string }{
		{`{include: [emial]}`, `audience.include[0]: column "emial" is not in the population; did you mean "email"?`},
		{`{where: {column: total_spend, op: ">=", value: "100"}}`, `audience.where.value: total_spend is a number column (DOUBLE) but the value is a string; write the value as a number`},
		{`{where: {column: email, op: "=", value: 3}}`, `audience.where.value: email is a text column (VARCHAR); quote the value: "3"`},
		{`{where: {column: total_spend, op: contains, value: "1"}}`, `audience.where.op: contains needs a text column; total_spend is DOUBLE`},
		{`{where: {column: email, within: 3d}}`, `audience.where.within: needs a timestamp column; email is VARCHAR`},
		{`{where: {column: last_order_at, op: ">", value: "yesterday"}}`, `audience.where.value: "yesterday" is not a timestamp; write 2026-11-01 or 2026-11-01T12:00:00Z`},
		{`{where: {all: [{column: nope, op: is_null}, {column: total_orders, op: "=", value: true}]}}`,
			"audience.where.all[0].column: column \"nope\" is not in the population (it has profile_id, email, total_spend, last_order_at, traits, total_orders)\n" +
				"audience.where.all[1].value: total_orders is a number column (INTEGER) but the value is a boolean; write the value as a number"},
	}
	for _, tc := range tests {
		_, err := compileFixture(t, wh, tc.rules)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.rules, err, tc.want)
		}
	}
	// A population without profile_id.
	_, err := Compile(&Spec{}, Input{Dialect: duckdb.Dialect{}, Population: "select 1 as id", Columns: []warehouse.Column{{Name: "id", Type: "INTEGER"}}})
	if err == nil || !strings.Contains(err.Error(), "the population has no profile_id column (it has id)") {
		t.Errorf("no profile_id: %v", err)
	}
	// Traits need a traits column.
	spec, _ := Parse(rulesOf(t, `{where: {trait: plan, op: is_null}}`))
	_, err = Compile(spec, Input{Dialect: duckdb.Dialect{}, Population: "select 1", Columns: []warehouse.Column{{Name: "profile_id", Type: "VARCHAR"}}})
	if err == nil || !strings.Contains(err.Error(), "which it lacks") {
		t.Errorf("no traits: %v", err)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	got = strings.TrimSpace(got) + "\n"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}
