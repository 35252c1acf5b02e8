package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// segmentDefaultFields are the fields every segment contract gets, placed at pos.
func segmentDefaultFields(pos Pos) []Field {
	return []Field{
		{Name: "messageId", Type: "string", Required: true, Pos: pos},
		{Name: "type", Type: "string", Required: true, Allowed: SegmentTypes, Pos: pos},
		{Name: "timestamp", Type: "timestamp", Required: true, Pos: pos},
	}
}

func TestSegmentSourceWithoutContract(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": "name: shop\nsources:\n  events:\n    format: segment\n"})
	pos := Pos{"cdp.yaml", 3}
	want := &Source{
		Name: "events", Schema: "raw", Format: "segment", Pos: pos,
		Contract: &Contract{
			Pos:                  pos,
			Fields:               segmentDefaultFields(pos),
			AllowedTypes:         SegmentTypes,
			AllowUnplannedEvents: true,
		},
	}
	if diff := cmp.Diff(want, p.Sources["events"]); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}
}

const eventsContract = `version: 1
allowed_types: [track, identify]
fields:
  - name: timestamp
    type: timestamp
  - name: context.device.id
    type: string
    description: Device id.
tracking_plan:
  allow_unplanned_events: false
  events:
    - name: Order Completed
      properties:
        - name: revenue
          type: number
          required: true
        - name: currency
          type: string
          allowed: [USD, EUR]
`

func TestContractFile(t *testing.T) {
	p := mustParse(t, map[string]string{
		"cdp.yaml":             "name: shop\nsources:\n  events:\n    format: segment\n    schema: landing\n    contract: contracts/events.yml\n",
		"contracts/events.yml": eventsContract,
	})
	f := "contracts/events.yml"
	want := &Source{
		Name: "events", Schema: "landing", Format: "segment", Pos: Pos{"cdp.yaml", 3},
		Contract: &Contract{
			Pos: Pos{f, 1},
			Fields: []Field{
				// Defaults the file omits come first; timestamp is kept as the file wrote it.
				{Name: "messageId", Type: "string", Required: true, Pos: Pos{f, 1}},
				{Name: "type", Type: "string", Required: true, Allowed: []string{"track", "identify"}, Pos: Pos{f, 1}},
				{Name: "timestamp", Type: "timestamp", Pos: Pos{f, 4}},
				{Name: "context.device.id", Type: "string", Description: "Device id.", Pos: Pos{f, 6}},
			},
			AllowedTypes: []string{"track", "identify"},
			Events: []EventRule{{
				Name: "Order Completed",
				Pos:  Pos{f, 12},
				Properties: []Field{
					{Name: "revenue", Type: "number", Required: true, Pos: Pos{f, 14}},
					{Name: "currency", Type: "string", Allowed: []string{"USD", "EUR"}, Pos: Pos{f, 17}},
				},
			}},
			AllowUnplannedEvents: false,
		},
	}
	if diff := cmp.Diff(want, p.Sources["events"]); diff != "" {
		t.Errorf("source (-want +got):\n%s", diff)
	}
}

func TestInlineContract(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": y(`
name: shop
sources:
  orders:
    format: csv
    contract:
      fields:
        - {name: id, type: integer, required: true}
        - {name: status, type: string, allowed: [open, paid]}
        - name: note
`)})
	want := &Contract{
		Pos: Pos{"cdp.yaml", 6},
		Fields: []Field{
			{Name: "id", Type: "integer", Required: true, Pos: Pos{"cdp.yaml", 7}},
			{Name: "status", Type: "string", Allowed: []string{"open", "paid"}, Pos: Pos{"cdp.yaml", 8}},
			{Name: "note", Type: "any", Pos: Pos{"cdp.yaml", 9}},
		},
		AllowUnplannedEvents: true,
	}
	if diff := cmp.Diff(want, p.Sources["orders"].Contract); diff != "" {
		t.Errorf("contract (-want +got):\n%s", diff)
	}
}

// A contract file shared by two sources is parsed once; defaults added for the segment source
// must not leak into the ndjson one.
func TestSharedContractFile(t *testing.T) {
	p := mustParse(t, map[string]string{
		"cdp.yaml": "name: shop\nsources:\n  a:\n    format: segment\n    contract: c.yml\n  b:\n    format: ndjson\n    contract: c.yml\n",
		"c.yml":    "fields:\n  - {name: id, type: string}\n",
	})
	if got := len(p.Sources["a"].Contract.Fields); got != 4 {
		t.Errorf("segment source has %d fields, want 4 (3 defaults + id)", got)
	}
	if got := len(p.Sources["b"].Contract.Fields); got != 1 {
		t.Errorf("ndjson source has %d fields, want 1", got)
	}
}

func TestContractErrors(t *testing.T) {
	tests := []struct {
		name     string
		source   string // the source block under sources:, indented 4
		contract string // contracts/c.yml
		wants    []string
	}{
		{"bad field type", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: a\n    type: float\n",
			[]string{`contracts/c.yml:2: field "a": type "float" is not supported; use one of string, integer, number, boolean, timestamp, object, array, any`}},
		{"unknown field key", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: a\n    requird: true\n",
			[]string{`contracts/c.yml:3: unknown key "requird" in fields; did you mean "required"?`}},
		{"unknown top key", "format: ndjson\n    contract: contracts/c.yml", "feilds: []\n",
			[]string{`contracts/c.yml:1: unknown key "feilds"; did you mean "fields"?`}},
		{"required not bool", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: a\n    required: yes please\n",
			[]string{`contracts/c.yml:3: fields.required must be true or false, got "yes please"`}},
		{"fields not a list", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  a: string\n",
			[]string{`contracts/c.yml:2: fields must be a list (- item lines), got a mapping`}},
		{"duplicate field", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: a\n  - name: a\n",
			[]string{`contracts/c.yml:3: field "a" is declared twice (first at contracts/c.yml:2); remove one`}},
		{"allowed on object", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - {name: a, type: object, allowed: [x]}\n",
			[]string{`contracts/c.yml:2: field "a": allowed values need a scalar type (string, integer, number, boolean, timestamp), not object`}},
		{"allowed on untyped", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - {name: a, allowed: [x]}\n",
			[]string{`contracts/c.yml:2: field "a": allowed values need a scalar type`, "not any"}},
		{"allowed not an integer", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - {name: a, type: integer, allowed: [1, two]}\n",
			[]string{`contracts/c.yml:2: field "a": allowed value "two" is not a valid integer`}},
		{"missing name", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - type: string\n",
			[]string{"contracts/c.yml:2: field has no name; add `name:`"}},
		{"bad dotted path", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: a..b\n",
			[]string{`contracts/c.yml:2: field "a..b" is not a valid dotted path`}},
		{"dotted column", "format: csv\n    contract: contracts/c.yml", "fields:\n  - name: a.b\n",
			[]string{`contracts/c.yml:2: column "a.b": csv and parquet fields are column names, not dotted JSON paths`}},
		{"csv without contract", "format: csv", "",
			[]string{`cdp.yaml:3: source "s" (csv) needs a contract that lists its columns`}},
		{"parquet with empty contract", "format: parquet\n    contract: contracts/c.yml", "version: 1\n",
			[]string{`cdp.yaml:3: source "s" (parquet) needs a contract that lists its columns`}},
		{"allowed_types on ndjson", "format: ndjson\n    contract: contracts/c.yml", "allowed_types: [track]\n",
			[]string{`contracts/c.yml:1: source "s": allowed_types applies to segment sources only; remove it from the contract`}},
		{"tracking plan on csv", "format: csv\n    contract: contracts/c.yml", "fields: [{name: a}]\ntracking_plan:\n  events: [{name: x}]\n",
			[]string{`contracts/c.yml:1: source "s": tracking_plan applies to segment sources only`}},
		{"unknown segment type", "format: segment\n    contract: contracts/c.yml", "allowed_types: [track, trak]\n",
			[]string{`contracts/c.yml:1: allowed_types: "trak" is not a Segment call type; use any of track, identify, page, screen, group, alias`}},
		{"duplicate event", "format: segment\n    contract: contracts/c.yml", "tracking_plan:\n  events:\n    - name: A\n    - name: A\n",
			[]string{`contracts/c.yml:4: event "A" is planned twice (first at contracts/c.yml:3)`}},
		{"bad property type", "format: segment\n    contract: contracts/c.yml", "tracking_plan:\n  events:\n    - name: A\n      properties:\n        - {name: p, type: str}\n",
			[]string{`contracts/c.yml:5: property of event "A" "p": type "str" is not supported`}},
		{"missing contract file", "format: segment\n    contract: contracts/nope.yml", "",
			[]string{`cdp.yaml:5: contract file contracts/nope.yml does not exist; create it or fix the path (it is relative to cdp.yaml)`}},
		{"contract outside project", "format: segment\n    contract: ../c.yml", "",
			[]string{`cdp.yaml:5: contract "../c.yml" must be a file inside the project, relative to cdp.yaml`}},
		{"contract is a list", "format: segment\n    contract: [a]", "",
			[]string{`cdp.yaml:5: sources.s.contract must be a contract file path or an inline mapping of fields, got a list`}},
		{"contract syntax error", "format: segment\n    contract: contracts/c.yml", "fields:\n  - name: [\n",
			[]string{`contracts/c.yml:`, "invalid YAML"}},
		{"env in contract", "format: ndjson\n    contract: contracts/c.yml", "fields:\n  - name: ${COL}\n",
			[]string{`contracts/c.yml:2: environment variable COL is not set`}},
		{"contract version", "format: ndjson\n    contract: contracts/c.yml", "version: 3\n",
			[]string{`contracts/c.yml:1: contract version "3" is not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"cdp.yaml": "name: shop\nsources:\n  s:\n    " + tt.source + "\n"}
			if tt.contract != "" {
				files["contracts/c.yml"] = tt.contract
			}
			_, err := parseFiles(t, files, nil)
			wantErr(t, err, tt.wants...)
		})
	}
}

func TestSourceErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{"bad format", "name: shop\nsources:\n  events:\n    format: jsonl\n",
			[]string{`cdp.yaml:3: source "events": format "jsonl" is not supported; use one of segment, ndjson, csv, parquet`}},
		{"no format", "name: shop\nsources:\n  events:\n    schema: raw\n",
			[]string{"cdp.yaml:3: source \"events\" has no format; add `format:` with one of segment, ndjson, csv, parquet"}},
		{"bad name", "name: shop\nsources:\n  my-events:\n    format: ndjson\n",
			[]string{`cdp.yaml:3: source name "my-events" is not a valid table name`}},
		{"bad schema", "name: shop\nsources:\n  events:\n    format: ndjson\n    schema: 1raw\n",
			[]string{`cdp.yaml:3: source "events": schema "1raw" is not a valid schema name`}},
		{"unknown key", "name: shop\nsources:\n  events:\n    formt: ndjson\n",
			[]string{`cdp.yaml:4: unknown key "formt" in sources.events; did you mean "format"?`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(t, map[string]string{"cdp.yaml": tt.yaml}, nil)
			wantErr(t, err, tt.wants...)
		})
	}
}
