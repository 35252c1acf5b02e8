package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dbtSources = `version: 2
sources:
  - name: raw
    description: Raw data.
    loaded_at_field: loaded_at
    tables:
      - name: events
        meta:
          cdp:
            format: segment
            contract: ../contracts/events.yml
      - name: plain_dbt_table
        columns: [{name: id, tests: [unique]}]
  - name: landing
    schema: lake
    tables:
      - name: orders
        config:
          meta:
            cdp:
              format: csv
              contract:
                fields: [{name: id, type: integer}]
`

func TestDBTSources(t *testing.T) {
	p := mustParse(t, map[string]string{
		"cdp.yaml":             "name: shop\n",
		"models/sources.yml":   dbtSources,
		"contracts/events.yml": "fields: [{name: event, type: string}]\n",
		"models/other.yml":     "version: 2\nmodels:\n  - name: m\n    anything: goes\n",
		"models/.hidden/x.yml": "sources: [{name: raw, tables: [{name: ghost, meta: {cdp: {format: ndjson}}}]}]\n",
	})
	if got, want := len(p.Sources), 2; got != want {
		t.Fatalf("got %d sources (%v), want %d: events and orders", got, p.Sources, want)
	}
	ev := p.Sources["events"]
	if ev.Schema != "raw" || ev.Format != "segment" || ev.Pos != (Pos{"models/sources.yml", 7}) {
		t.Errorf("events = %+v, want raw.events, segment, at models/sources.yml:7", ev)
	}
	if ev.Contract.Pos != (Pos{"contracts/events.yml", 1}) || len(ev.Contract.Fields) != 4 {
		t.Errorf("events contract at %v with %d fields, want contracts/events.yml:1 with 4", ev.Contract.Pos, len(ev.Contract.Fields))
	}
	want := &Source{
		Name: "orders", Schema: "lake", Format: "csv", Pos: Pos{"models/sources.yml", 17},
		Contract: &Contract{
			Pos:                  Pos{"models/sources.yml", 23},
			Fields:               []Field{{Name: "id", Type: "integer", Pos: Pos{"models/sources.yml", 23}}},
			AllowUnplannedEvents: true,
		},
	}
	if diff := cmp.Diff(want, p.Sources["orders"]); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
}

func TestDBTSourceErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		wants []string
	}{
		{"unknown key in meta.cdp",
			map[string]string{"models/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: e\n        meta:\n          cdp: {formt: ndjson}\n"},
			[]string{`models/s.yml:6: unknown key "formt" in meta.cdp; did you mean "format"?`}},
		{"schema belongs to dbt",
			map[string]string{"models/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: e\n        meta:\n          cdp: {format: ndjson, schema: x}\n"},
			[]string{`models/s.yml:6: unknown key "schema" in meta.cdp; valid keys are format, contract`}},
		{"contract relative to the yml",
			map[string]string{"models/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: e\n        meta:\n          cdp:\n            format: ndjson\n            contract: contracts/e.yml\n"},
			[]string{`models/s.yml:8: contract file models/contracts/e.yml does not exist; create it or fix the path (it is relative to models/s.yml)`}},
		{"duplicate with cdp.yaml",
			map[string]string{
				"cdp.yaml":     "name: shop\nsources:\n  events:\n    format: segment\n",
				"models/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: events\n        meta: {cdp: {format: segment}}\n",
			},
			[]string{`models/s.yml:4: source "events" is declared twice (first at cdp.yaml:3); remove one of the declarations`}},
		{"duplicate across ymls",
			map[string]string{
				"models/a.yml":      "sources:\n  - name: raw\n    tables:\n      - name: events\n        meta: {cdp: {format: ndjson}}\n",
				"models/sub/b.yaml": "sources:\n  - name: raw2\n    tables:\n      - name: events\n        meta: {cdp: {format: ndjson}}\n",
			},
			[]string{`models/sub/b.yaml:4: source "events" is declared twice (first at models/a.yml:4)`}},
		{"both meta spellings",
			map[string]string{"models/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: e\n        meta: {cdp: {format: ndjson}}\n        config: {meta: {cdp: {format: ndjson}}}\n"},
			[]string{`models/s.yml:6: cdp settings are given both in meta.cdp (line 5) and config.meta.cdp; keep one`}},
		{"yaml syntax error",
			map[string]string{"models/s.yml": "sources:\n  - name: [\n"},
			[]string{"models/s.yml:", "invalid YAML"}},
		{"bad schema name",
			map[string]string{"models/s.yml": "sources:\n  - name: raw-data\n    tables:\n      - name: e\n        meta: {cdp: {format: ndjson}}\n"},
			[]string{`models/s.yml:4: source "e": schema "raw-data" is not a valid schema name`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.files["cdp.yaml"]; !ok {
				tt.files["cdp.yaml"] = "name: shop\n"
			}
			_, err := parseFiles(t, tt.files, nil)
			wantErr(t, err, tt.wants...)
		})
	}
}

// Overlapping model paths read each file once, so they do not make duplicate sources.
func TestOverlappingModelPaths(t *testing.T) {
	p := mustParse(t, map[string]string{
		"cdp.yaml":         "name: shop\nmodel-paths: [models, models/sub]\n",
		"models/sub/s.yml": "sources:\n  - name: raw\n    tables:\n      - name: e\n        meta: {cdp: {format: ndjson}}\n",
	})
	if _, err := p.Source("e"); err != nil {
		t.Fatal(err)
	}
}
