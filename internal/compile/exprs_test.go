package compile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

func TestConfigJinja(t *testing.T) {
	prodOnly := mdl("prod_only", "select 1")
	prodOnly.Config.Extra = map[string]any{"enabled": "{{ target.name == 'prod' }}"}
	devOnly := mdl("dev_only", "select 1")
	devOnly.Config.Extra = map[string]any{"enabled": "{{ target.name == 'dev' }}", "grants": "{{ env_var('CDP_TEST_SCHEMA') }}_readers"}
	devOnly.Config.Schema = "{{ env_var('CDP_TEST_SCHEMA') }}"
	r := mustCompile(t, proj(prodOnly, devOnly))
	if _, ok := r.Nodes["model.prod_only"]; ok {
		t.Error("model.prod_only is enabled on target dev")
	}
	n := r.Nodes["model.dev_only"]
	if n == nil {
		t.Fatal("model.dev_only is missing")
	}
	if got, want := n.Relation.String(), "main_analytics.dev_only"; got != want {
		t.Errorf("Relation = %s, want %s", got, want)
	}
	want := map[string]any{"grants": "analytics_readers"}
	if diff := cmp.Diff(want, n.Config.Extra); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}

	bad := mdl("bad", "select 1")
	bad.Config.Extra = map[string]any{"enabled": "{{ 'maybe' }}"}
	bad.Pos = config.Pos{File: "models/schema.yml", Line: 4}
	if diff := cmp.Diff(`models/schema.yml:4: config enabled: {{ 'maybe' }} renders to "maybe"; it must render to true or false`, compileErr(t, proj(bad))); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestHooksKeepTheReadersKeys(t *testing.T) {
	r := mustCompile(t, proj(mdl("m", "{{ config(post_hook='analyze {{ this }}', pre_hook=['set x = 1']) }}select 1")))
	want := map[string]any{"post-hook": "analyze {{ this }}", "pre-hook": []any{"set x = 1"}}
	if diff := cmp.Diff(want, r.Nodes["model.m"].Config.Extra); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}
}

func TestTestConfigs(t *testing.T) {
	orders := colTests(mdl("orders", "select 1"), "id",
		&project.Test{Name: "not_null", CustomName: "orders_id_present", Config: map[string]any{"tags": []any{"critical"}, "limit": 10}},
		&project.Test{Name: "unique", Severity: "{{ 'warn' if target.name == 'dev' else 'error' }}"},
		&project.Test{Name: "accepted_values", Args: map[string]any{"values": []any{1}}, Config: map[string]any{"enabled": false}},
		&project.Test{Name: "relationships", Args: map[string]any{"to": "ref('orders')", "field": "id"}, Config: map[string]any{"enabled": "{{ target.name == 'prod' }}"}},
	)
	r := mustCompile(t, proj(orders))
	var ids []string
	for _, id := range sortedKeys(r.Nodes) {
		if r.Nodes[id].Kind == KindTest {
			ids = append(ids, id)
		}
	}
	if diff := cmp.Diff([]string{"test.orders_id_present", "test.unique_orders_id"}, ids); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}
	n := r.Nodes["test.orders_id_present"]
	wantCfg := project.Config{Enabled: true, Materialized: "test", Tags: []string{"critical"}, Extra: map[string]any{"limit": 10}}
	if diff := cmp.Diff(wantCfg, n.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := r.Nodes["test.unique_orders_id"].Severity; got != "warn" {
		t.Errorf("severity = %q, want warn", got)
	}
}

func TestSeedTestsAndDocs(t *testing.T) {
	p := proj()
	p.Docs = map[string]string{"iso": "ISO 3166 code."}
	p.Seeds = []*project.Seed{{
		Name: "countries", Path: "seeds/countries.csv", Config: project.Config{Enabled: true},
		Description: "Countries.",
		Columns:     []*project.Column{{Name: "code", DataType: "varchar", Description: "{{ doc('iso') }}", Tests: []*project.Test{{Name: "unique"}}}},
		Tests:       []*project.Test{{Name: "not_null", Args: map[string]any{"column_name": "name"}}},
		Pos:         config.Pos{File: "seeds/seeds.yml", Line: 3},
	}}
	r := mustCompile(t, p)
	s := r.Nodes["seed.countries"]
	if diff := cmp.Diff([]Column{{Name: "code", DataType: "varchar", Description: "ISO 3166 code."}}, s.Columns); diff != "" {
		t.Errorf("seed columns (-want +got):\n%s", diff)
	}
	u := r.Nodes["test.unique_countries_code"]
	if u == nil || u.TestOf != "seed.countries" || u.SQL != `SELECT "code", count(*) AS n FROM "main"."countries" WHERE "code" IS NOT NULL GROUP BY "code" HAVING count(*) > 1` {
		t.Errorf("seed column test = %+v", u)
	}
	if n := r.Nodes["test.not_null_countries"]; n == nil || !cmp.Equal(n.DependsOn, []string{"seed.countries"}) {
		t.Errorf("seed test = %+v", n)
	}
}
