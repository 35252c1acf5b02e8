package config

import "testing"

func TestTargetLookup(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": "name: shop\ntarget: prod\ntargets:\n  dev: {type: duckdb}\n  prod: {type: bigquery, project: p, dataset: d}\n"})
	tests := []struct {
		name, want, wantErr string
	}{
		{"", "prod", ""},
		{"dev", "dev", ""},
		{"prd", "", `target "prd" is not defined; defined targets: dev, prod`},
	}
	for _, tt := range tests {
		got, err := p.Target(tt.name)
		switch {
		case tt.wantErr != "":
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Target(%q) error = %v, want %s", tt.name, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("Target(%q): %v", tt.name, err)
		case got.Name != tt.want:
			t.Errorf("Target(%q) = %s, want %s", tt.name, got.Name, tt.want)
		}
	}
}

func TestSourceLookup(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": "name: shop\nsources:\n  events: {format: segment}\n  users: {format: ndjson}\n"})
	if s, err := p.Source("events"); err != nil || s.Name != "events" {
		t.Errorf("Source(events) = %v, %v", s, err)
	}
	_, err := p.Source("evnts")
	want := "source \"evnts\" is not declared (declared sources: events, users); declare it under `sources:` in cdp.yaml, or as a source table with a meta.cdp block in models/sources.yml"
	if err == nil || err.Error() != want {
		t.Errorf("Source(evnts) error = %v, want %s", err, want)
	}
	empty := mustParse(t, map[string]string{"cdp.yaml": "name: shop\n"})
	if _, err := empty.Source("x"); err == nil {
		t.Error("Source on a project without sources: got no error")
	} else {
		wantErr(t, err, "(declared sources: none)")
	}
}
