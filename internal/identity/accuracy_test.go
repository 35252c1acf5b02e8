package identity

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cdp-dev/cdp/internal/generate"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// segmentObservations extracts observations from Segment events in main.events: email and
// phone from traits and context.traits, the device id from context.device.id, and an alias
// call's previousId as a second anonymous id.
const segmentObservations = `select messageId as message_id, "timestamp", anonymousId as anonymous_id, userId as user_id,
	previousId as previous_id,
	coalesce(json_extract_string(traits, '$.email'), json_extract_string(context, '$.traits.email')) as email,
	coalesce(json_extract_string(traits, '$.phone'), json_extract_string(context, '$.traits.phone')) as phone,
	json_extract_string(context, '$.device.id') as device_id
from main.events`

// segmentRules are the default rules plus previousId.
func segmentRules() map[string]any {
	return map[string]any{"identifiers": []any{
		map[string]any{"type": "user_id"},
		map[string]any{"type": "email"},
		map[string]any{"type": "phone"},
		map[string]any{"type": "device_id"},
		map[string]any{"type": "anonymous_id"},
		map[string]any{"type": "anonymous_id", "column": "previous_id"},
	}}
}

// plainRules are connected components with nothing refused: no limits, no blocklist.
func plainRules() map[string]any {
	var ids []any
	for _, id := range segmentRules()["identifiers"].([]any) {
		m := id.(map[string]any)
		m["limit"] = 0
		ids = append(ids, m)
	}
	return map[string]any{"identifiers": ids, "blocklist": map[string]any{"defaults": false}, "max_group_size": 1 << 30}
}

// loadGenerated generates persons with internal/generate and loads the events into main.events
// and the truth into main.truth.
func loadGenerated(t testing.TB, wh warehouse.Warehouse, persons int) generate.Summary {
	t.Helper()
	dir := t.TempDir()
	sum, err := generate.Events(context.Background(), generate.Options{Persons: persons, Seed: 20261101, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, wh, `CREATE OR REPLACE TABLE main.events AS SELECT * FROM read_json('`+filepath.Join(dir, "events-*.ndjson")+`',
		format = 'newline_delimited', columns = {messageId: 'VARCHAR', "timestamp": 'TIMESTAMPTZ', "type": 'VARCHAR', anonymousId: 'VARCHAR',
		userId: 'VARCHAR', previousId: 'VARCHAR', traits: 'JSON', context: 'JSON'})`)
	mustExec(t, wh, `CREATE OR REPLACE TABLE main.truth AS SELECT * FROM read_csv('`+sum.TruthFile+`', header = true, columns = {message_id: 'VARCHAR', person_id: 'VARCHAR'})`)
	return sum
}

// score is pairwise precision and recall over events: two events are a true pair if the same
// person caused them, a predicted pair if they are in the same profile. Events without a
// profile are alone. Counted per (profile, person), so it is linear in the events.
func score(t testing.TB, wh warehouse.Warehouse, eventsRel string) (precision, recall float64) {
	t.Helper()
	q := `WITH ep AS (
			SELECT t.message_id, t.person_id, COALESCE(e.profile_id, 'event:' || t.message_id) AS profile_id
			FROM main.truth t LEFT JOIN ` + eventsRel + ` e ON e.event_id = t.message_id),
		pp AS (SELECT profile_id, person_id, COUNT(*) AS n FROM ep GROUP BY ALL),
		prof AS (SELECT profile_id, COUNT(*) AS n FROM ep GROUP BY ALL),
		pers AS (SELECT person_id, COUNT(*) AS n FROM ep GROUP BY ALL)
		SELECT (SELECT SUM(n * (n - 1) / 2) FROM pp)::DOUBLE, (SELECT SUM(n * (n - 1) / 2) FROM prof)::DOUBLE, (SELECT SUM(n * (n - 1) / 2) FROM pers)::DOUBLE`
	rows, err := wh.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tp, predicted, actual float64
	if !rows.Next() {
		t.Fatal("no score")
	}
	if err := rows.Scan(&tp, &predicted, &actual); err != nil {
		t.Fatal(err)
	}
	return tp / predicted, tp / actual
}

func TestAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and resolves 2,000 persons")
	}
	wh := openWH(t)
	sum := loadGenerated(t, wh, 2000)
	t.Logf("%d persons, %d events", sum.Persons, sum.Events)
	for _, c := range []struct {
		name  string
		rules map[string]any
		floor float64
	}{
		{"cdp", segmentRules(), 0.99},
		{"plain connected components", plainRules(), 0},
	} {
		n := identityModel("idm", segmentObservations, c.rules)
		res := build(t, wh, n)
		p, r := score(t, wh, "main.idm_events")
		m := queryStrings(t, wh, "SELECT profiles, identifiers, dropped_blocked, dropped_invalid, dropped_limit, dropped_max_group_size, largest_profile, rounds, limit_rounds FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1")
		t.Logf("%s: precision %.4f recall %.4f (profiles|identifiers|blocked|invalid|limit|max_group_size|largest|rounds|limit_rounds = %s; %.2fs)", c.name, p, r, m[0], res.Seconds)
		if p < c.floor || r < c.floor {
			t.Errorf("%s: precision %.4f, recall %.4f; want both >= %.2f", c.name, p, r, c.floor)
		}
		mustExec(t, wh, "DROP TABLE main.idm") // the next rules start afresh
	}
}
