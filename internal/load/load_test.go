package load_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/load"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

func segmentSource() *config.Source {
	return &config.Source{Name: "events", Schema: "raw", Format: "segment", Contract: &config.Contract{
		AllowedTypes:         []string{"track", "identify", "page", "screen", "group", "alias"},
		AllowUnplannedEvents: true,
		Fields: []config.Field{
			{Name: "messageId", Type: "string", Required: true},
			{Name: "type", Type: "string", Required: true, Allowed: []string{"track", "identify", "page", "screen", "group", "alias"}},
			{Name: "timestamp", Type: "timestamp", Required: true},
		},
		Events: []config.EventRule{{Name: "Order Completed", Properties: []config.Field{
			{Name: "order_id", Type: "string", Required: true},
			{Name: "revenue", Type: "number", Required: true},
			{Name: "currency", Type: "string", Allowed: []string{"USD", "EUR"}},
		}}},
	}}
}

const events = `{"messageId":"m1","type":"track","event":"Product Viewed","anonymousId":"a1","timestamp":"2026-10-03T14:22:05.123Z","properties":{"product_id":"p1"}}
{"messageId":"m2","type":"identify","userId":"u1","anonymousId":"a1","timestamp":"2026-10-03T14:23:00Z","traits":{"email":"Jane@Example.com"}}

{"messageId":"m1","type":"track","event":"Product Viewed","anonymousId":"a1","timestamp":"2026-10-03T14:22:05.123Z","properties":{"product_id":"p1"}}
{"messageId":"m3","type":"track","event":"Order Completed","userId":"u1","timestamp":"2026-10-03T14:25:00Z","properties":{"order_id":"o1","revenue":"12.5","currency":"USD"}}
{"messageId":"m4","type":"track","event":"Order Completed","userId":"u1","timestamp":"2026-10-03T14:25:00Z","properties":{"order_id":"o2","revenue":12.5,"currency":"JPY"}}
{"messageId":"m5","type":"trak","userId":"u1","timestamp":"2026-10-03T14:25:00Z"}
{"messageId":"m6","type":"page","userId":"u1","timestamp":"yesterday"}
{"type":"page","userId":"u1","timestamp":"2026-10-03T14:25:00Z"}
{"messageId":"m7","type":"page","timestamp":"2026-10-03T14:25:00Z"}
{"messageId":"m8","type":"track","userId":"u1","timestamp":"2026-10-03T14:25:00Z"}
{"messageId":"m9","type":"alias","userId":"u1","timestamp":"2026-10-03T14:25:00Z"}
{"messageId":"m10","type":"track","event":"X","userId":"u1","timestamp":"2026-10-03T14:25:00Z","properties":[1]}
{"messageId": "m11", "type":
` + "{\"messageId\":\"m12\",\"type\":\"page\",\"userId\":\"u\xff\",\"timestamp\":\"2026-10-03T14:25:00Z\"}\n" +
	`[1,2]
{"messageId":"m13","type":"track","event":"Order Completed","userId":42,"timestamp":"2026-10-03T16:25:00+02:00","properties":{"order_id":"o3","revenue":99,"currency":"EUR"}}
`

func open(t *testing.T) warehouse.Warehouse {
	t.Helper()
	wh, err := duckdb.Open(context.Background(), warehouse.Config{Type: "duckdb", Path: filepath.Join(t.TempDir(), "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

func write(t *testing.T, dir, name, content string, gz bool) string {
	t.Helper()
	p := filepath.Join(dir, name)
	data := []byte(content)
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func query(t *testing.T, wh warehouse.Warehouse, q string) [][]any {
	t.Helper()
	rows, err := wh.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSegmentContractQuarantineAndDedupe(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	file := write(t, t.TempDir(), "events.ndjson.gz", events, true)
	sum, err := load.Run(ctx, wh, load.Options{Source: segmentSource(), Files: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	wantReasons := map[string]int64{
		load.ReasonTrackingPlan:    2, // revenue as string, currency JPY
		load.ReasonUnknownType:     1,
		load.ReasonBadTimestamp:    1,
		load.ReasonMissingField:    3, // no messageId, track without event, alias without previousId
		load.ReasonMissingIdentity: 1,
		load.ReasonWrongType:       1,
		load.ReasonMalformedJSON:   2, // truncated line, JSON array
		load.ReasonInvalidUTF8:     1,
	}
	if diff := cmp.Diff(wantReasons, sum.ByReason); diff != "" {
		t.Errorf("quarantined by reason (-want +got):\n%s", diff)
	}
	if sum.Loaded != 3 || sum.Duplicates != 1 || sum.Quarantined != 12 || sum.Rows != 16 {
		t.Errorf("loaded=%d duplicates=%d quarantined=%d rows=%d, want 3 1 12 16", sum.Loaded, sum.Duplicates, sum.Quarantined, sum.Rows)
	}
	got := query(t, wh, `SELECT message_id, type, coalesce(user_id, anonymous_id), strftime(timestamp, '%Y-%m-%dT%H:%M:%S.%g'), source_line FROM raw.events ORDER BY source_line`)
	want := [][]any{
		{"m1", "track", "a1", "2026-10-03T14:22:05.123", int64(1)},
		{"m2", "identify", "u1", "2026-10-03T14:23:00.000", int64(2)},
		{"m13", "track", "42", "2026-10-03T14:25:00.000", int64(17)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw.events (-want +got):\n%s", diff)
	}
	q := query(t, wh, `SELECT line, reason, detail, original_text IS NULL, original_bytes IS NULL FROM raw.events_quarantine ORDER BY line`)
	wantQ := [][]any{
		{int64(5), "tracking_plan_violation", `event "Order Completed": property revenue must be a number, got string`, false, true},
		{int64(6), "tracking_plan_violation", `event "Order Completed": property currency = "JPY" is not one of USD, EUR`, false, true},
		{int64(7), "unknown_type", `field type = "trak" is not one of track, identify, page, screen, group, alias`, false, true},
		{int64(8), "unparsable_timestamp", `field timestamp: cannot parse "yesterday" as a timestamp (use ISO-8601, e.g. 2026-10-03T14:22:05.123Z)`, false, true},
		{int64(9), "missing_required_field", "field messageId is required but missing or empty", false, true},
		{int64(10), "missing_identity", "page call needs userId or anonymousId", false, true},
		{int64(11), "missing_required_field", "track call needs event (the action's name)", false, true},
		{int64(12), "missing_required_field", "alias call needs previousId and userId", false, true},
		{int64(13), "wrong_type", "field properties must be an object, got array", false, true},
		{int64(14), "malformed_json", "line is not a valid JSON object", false, true},
		{int64(15), "invalid_utf8", "line is not valid UTF-8", true, false},
		{int64(16), "malformed_json", "line is not a valid JSON object", false, true},
	}
	if diff := cmp.Diff(wantQ, q); diff != "" {
		t.Errorf("quarantine (-want +got):\n%s", diff)
	}

	// Reloading the same file (even under another name) adds nothing.
	again := write(t, t.TempDir(), "copy.ndjson.gz", events, true)
	sum, err = load.Run(ctx, wh, load.Options{Source: segmentSource(), Files: []string{file, again}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesSkipped != 2 || sum.Loaded != 0 {
		t.Errorf("reload: skipped=%d loaded=%d, want 2 0", sum.FilesSkipped, sum.Loaded)
	}
	// A new file repeating a messageId seen before is deduplicated against the table.
	next := write(t, t.TempDir(), "next.ndjson", `{"messageId":"m2","type":"identify","userId":"u1","timestamp":"2026-10-03T14:23:00Z"}
{"messageId":"m20","type":"page","anonymousId":"a9","timestamp":"2026-10-04T00:00:00Z"}`, false)
	sum, err = load.Run(ctx, wh, load.Options{Source: segmentSource(), Files: []string{next}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 1 || sum.Duplicates != 1 {
		t.Errorf("next: loaded=%d duplicates=%d, want 1 1", sum.Loaded, sum.Duplicates)
	}
	if n := query(t, wh, "SELECT count(*) FROM raw.events")[0][0]; n != int64(4) {
		t.Errorf("raw.events has %v rows, want 4", n)
	}
	if n := query(t, wh, "SELECT count(*), CAST(sum(rows_loaded) AS BIGINT), CAST(sum(duplicates) AS BIGINT) FROM _cdp.load_ledger")[0]; !cmp.Equal(n, []any{int64(2), int64(4), int64(2)}) {
		t.Errorf("ledger files, rows, duplicates = %v, want 2 4 2", n)
	}
}

func TestSegmentObjectsComputedFromPayload(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	line := `{"messageId":"m1","type":"track","event":"Product Viewed","anonymousId":"a1","timestamp":"2026-10-03T14:22:05Z","context":{"ip":"1.2.3.4"},  "properties":{"product_id":"p1"}}`
	file := write(t, t.TempDir(), "events.ndjson", line+"\n", false)
	if _, err := load.Run(ctx, wh, load.Options{Source: segmentSource(), Files: []string{file}}); err != nil {
		t.Fatal(err)
	}
	got := query(t, wh, `SELECT CAST(context AS VARCHAR), CAST(properties AS VARCHAR), traits IS NULL, payload FROM raw.events`)
	want := [][]any{{`{"ip":"1.2.3.4"}`, `{"product_id":"p1"}`, true, line}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw.events (-want +got):\n%s", diff)
	}
	// The raw relation has the columns (names, order, types) that models are checked against.
	cols, err := wh.Columns(ctx, warehouse.Relation{Schema: "raw", Name: "events"})
	if err != nil {
		t.Fatal(err)
	}
	wantCols, err := load.RawColumns(wh.Dialect(), segmentSource())
	if err != nil {
		t.Fatal(err)
	}
	var gotNames, wantNames []string
	for _, c := range cols {
		gotNames = append(gotNames, c.Name+" "+c.Type)
	}
	for _, c := range wantCols {
		wantNames = append(wantNames, c.Name+" "+c.Type)
	}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("raw.events columns (-want +got):\n%s", diff)
	}
}

// A raw table made by an older cdp, with the objects as virtual columns, is still loaded into.
func TestSegmentOlderRawTableWithVirtualColumns(t *testing.T) {
	ctx := context.Background()
	wh := open(t)
	if err := wh.Exec(ctx, `CREATE SCHEMA raw; CREATE TABLE raw.events (message_id VARCHAR, "type" VARCHAR, "event" VARCHAR, "name" VARCHAR,
		anonymous_id VARCHAR, user_id VARCHAR, previous_id VARCHAR, group_id VARCHAR, "timestamp" TIMESTAMPTZ,
		original_timestamp TIMESTAMPTZ, sent_at TIMESTAMPTZ, received_at TIMESTAMPTZ,
		context JSON GENERATED ALWAYS AS (json_extract(payload, '$.context')) VIRTUAL,
		properties JSON GENERATED ALWAYS AS (json_extract(payload, '$.properties')) VIRTUAL,
		traits JSON GENERATED ALWAYS AS (json_extract(payload, '$.traits')) VIRTUAL,
		payload VARCHAR, source_file VARCHAR, source_line BIGINT, load_id VARCHAR, loaded_at TIMESTAMPTZ)`); err != nil {
		t.Fatal(err)
	}
	file := write(t, t.TempDir(), "events.ndjson.gz", events, true)
	sum, err := load.Run(ctx, wh, load.Options{Source: segmentSource(), Files: []string{file}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded != 3 {
		t.Errorf("loaded %d, want 3", sum.Loaded)
	}
	if got := query(t, wh, `SELECT count(*), count(properties) FROM raw.events`)[0]; !cmp.Equal(got, []any{int64(3), int64(2)}) {
		t.Errorf("raw.events count, count(properties) = %v, want 3 2", got)
	}
	if got := query(t, wh, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'events_stored'`)[0][0]; got != int64(0) {
		t.Errorf("events_stored was created next to an older raw table")
	}
}
