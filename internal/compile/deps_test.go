package compile

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/project"
)

func TestDependencies(t *testing.T) {
	p := proj(
		mdl("stg_a", "select * from {{ source('raw', 'events') }}"),
		mdl("stg_b", "select * from {{ source('raw', 'users') }} union all select * from {{ source('raw', 'events') }}"),
		mdl("int_c", "select * from {{ ref('stg_a') }} join {{ ref('stg_b') }} using (id) join {{ ref('stg_a') }} using (id)"),
		mdl("untaken", "select * from {{ ref('stg_a') }}{% if false %} join {{ ref('stg_b') }}{% endif %}"),
		mdl("inc", "{{ config(materialized='incremental') }}select * from {{ ref('stg_a') }}{% if is_incremental() %} where id > (select max(id) from {{ ref('stg_b') }}){% endif %}"),
		mdl("fct", "select * from {{ ref('int_c') }}, {{ ref('inc') }}, {{ ref('countries') }}"),
		with(mdl("off", "select * from {{ ref('nope') }}"), func(m *project.Model) { m.Config.Enabled = false }),
	)
	p.Sources = []*project.SourceTable{src("raw", "events"), src("raw", "users")}
	p.Seeds = []*project.Seed{{Name: "countries", Path: "seeds/countries.csv", Config: project.Config{Enabled: true}}}
	r := mustCompile(t, p)

	wantParents := map[string][]string{
		"model.stg_a":    {},
		"model.stg_b":    {},
		"model.int_c":    {"model.stg_a", "model.stg_b"},
		"model.untaken":  {"model.stg_a"},
		"model.inc":      {"model.stg_a", "model.stg_b"},
		"model.fct":      {"model.inc", "model.int_c", "seed.countries"},
		"seed.countries": {},
	}
	if diff := cmp.Diff(wantParents, r.Parents); diff != "" {
		t.Errorf("Parents (-want +got):\n%s", diff)
	}
	wantSources := map[string][]string{
		"model.stg_a": {"raw.events"},
		"model.stg_b": {"raw.events", "raw.users"},
	}
	for id, n := range r.Nodes {
		if diff := cmp.Diff(wantSources[id], n.Sources, cmp.Comparer(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
			t.Errorf("%s Sources (-want +got):\n%s", id, diff)
		}
		if diff := cmp.Diff(r.Parents[id], n.DependsOn); diff != "" {
			t.Errorf("%s DependsOn differs from Parents: %s", id, diff)
		}
	}
	wantOrder := []string{"model.stg_a", "model.stg_b", "model.inc", "model.int_c", "model.untaken", "seed.countries", "model.fct"}
	if diff := cmp.Diff(wantOrder, r.Order); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	if _, ok := r.Nodes["model.off"]; ok {
		t.Error("disabled model compiled")
	}
}

// TestOrderIsTopological checks Order on the generated project: every node after its parents.
func TestOrderIsTopological(t *testing.T) {
	r := mustCompile(t, genProject(500))
	pos := map[string]int{}
	for i, id := range r.Order {
		pos[id] = i
	}
	if len(pos) != len(r.Nodes) {
		t.Fatalf("Order has %d distinct IDs, Nodes %d", len(pos), len(r.Nodes))
	}
	for id, ps := range r.Parents {
		for _, p := range ps {
			if pos[p] >= pos[id] {
				t.Errorf("%s comes before its parent %s", id, p)
			}
		}
	}
}
