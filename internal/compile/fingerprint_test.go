package compile

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/project"
)

// fpProject is a small DAG: raw.events -> stg -> int (-> eph, ephemeral) -> fct, plus other.
func fpProject() *project.Project {
	stg := mdl("stg", "select * from {{ source('raw', 'events') }} where ts > '{{ var(\"since\") }}'")
	eph := with(mdl("eph", "select * from {{ ref('stg') }}"), func(m *project.Model) { m.Config.Materialized = "ephemeral" })
	int_ := mdl("int", "select * from {{ ref('eph') }}")
	int_.Config.Meta = map[string]any{"owner": "ana", "team": "data", "tier": 1}
	int_.Config.Extra = map[string]any{"partition_by": map[string]any{"field": "day", "granularity": "month"}, "cluster_by": []any{"a", "b"}}
	fct := colTests(mdl("fct", "{{ config(materialized='table') }}select * from {{ ref('int') }}"), "id", &project.Test{Name: "not_null"})
	other := mdl("other", "select 1")
	p := proj(stg, eph, int_, fct, other)
	p.Sources = []*project.SourceTable{src("raw", "events"), src("raw", "users")}
	p.Vars = map[string]any{"since": "2020-01-01"}
	return p
}

func fingerprints(t *testing.T, p *project.Project) map[string]string {
	t.Helper()
	r := mustCompile(t, p)
	fps := map[string]string{}
	for id, n := range r.Nodes {
		if len(n.Fingerprint) != 64 {
			t.Fatalf("%s: fingerprint %q is not hex SHA-256", id, n.Fingerprint)
		}
		fps[id] = n.Fingerprint
	}
	return fps
}

func TestFingerprints(t *testing.T) {
	base := fingerprints(t, fpProject())
	all := sortedKeys(base)
	changed := func(t *testing.T, got map[string]string) []string {
		var ids []string
		for _, id := range all {
			if got[id] != base[id] {
				ids = append(ids, id)
			}
		}
		return ids
	}
	tests := []struct {
		name   string
		change func(p *project.Project)
		want   []string
	}{
		{"same input", func(p *project.Project) {}, nil},
		{"models and sources in another order", func(p *project.Project) {
			slices.Reverse(p.Models)
			slices.Reverse(p.Sources)
		}, nil},
		{"maps rebuilt in another insertion order", func(p *project.Project) {
			m := p.Models[2]
			m.Config.Meta = map[string]any{"tier": 1, "team": "data", "owner": "ana"}
			m.Config.Extra = map[string]any{"cluster_by": []any{"a", "b"}, "partition_by": map[string]any{"granularity": "month", "field": "day"}}
		}, nil},
		{"upstream SQL changes", func(p *project.Project) {
			p.Models[0].SQL += " and id is not null"
		}, []string{"model.eph", "model.fct", "model.int", "model.stg", "test.not_null_fct_id"}},
		{"a var used upstream changes", func(p *project.Project) {
			p.Vars["since"] = "2021-01-01"
		}, []string{"model.eph", "model.fct", "model.int", "model.stg", "test.not_null_fct_id"}},
		{"an unused var changes", func(p *project.Project) {
			p.Vars["unused"] = 1
		}, nil},
		{"a config change", func(p *project.Project) {
			p.Models[2].Config.Meta["owner"] = "bo"
		}, []string{"model.fct", "model.int", "test.not_null_fct_id"}},
		{"unrelated model changes", func(p *project.Project) {
			p.Models[4].SQL = "select 2"
		}, []string{"model.other"}},
		{"materialization changes, same SQL", func(p *project.Project) {
			p.Models[3].SQL = "{{ config(materialized='view') }}select * from {{ ref('int') }}"
		}, []string{"model.fct", "test.not_null_fct_id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fpProject()
			tc.change(p)
			if diff := cmp.Diff(tc.want, changed(t, fingerprints(t, p))); diff != "" {
				t.Errorf("changed fingerprints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFingerprintsStableAcrossRuns(t *testing.T) {
	p := genProject(300)
	first := fingerprints(t, p)
	for range 3 {
		if diff := cmp.Diff(first, fingerprints(t, p)); diff != "" {
			t.Fatalf("fingerprints differ between runs (-first +now):\n%s", diff)
		}
	}
}
