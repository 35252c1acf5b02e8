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

// plainRules are connected components with nothing refused: no limits, no blocklist, every type
// bridges.
func plainRules() map[string]any {
	var ids []any
	for _, id := range segmentRules()["identifiers"].([]any) {
		m := id.(map[string]any)
		m["limit"], m["bridge"] = 0, true
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

// TestAccuracy scores identity resolution against the truth of 2,000 generated persons, next to
// plain connected components (no limits, no blocklist) and two ceilings no resolution by
// identifiers can pass on this data:
//   - recall: the generator's persons browse on several browsers and apps, and some never
//     identify on some of them (or log out, which resets the anonymous id), so their events
//     share no identifier with the rest of theirs. Connected components of each person's own
//     events alone (identifiers prefixed by the person) give the recall of perfect linking.
//   - precision: events are attributed through their highest-priority identifier; a browser
//     shared by two persons sends anonymous events of both under one anonymous id. Giving
//     every such identifier to the person who caused most of its events gives the precision
//     of perfect grouping.
func TestAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and resolves 2,000 persons")
	}
	ctx := context.Background()
	wh := openWH(t)
	sum := loadGenerated(t, wh, 2000)
	t.Logf("%d persons, %d events", sum.Persons, sum.Events)

	// Ceilings.
	perPerson := `select o.message_id, o."timestamp", t.person_id || '/' || o.anonymous_id as anonymous_id, t.person_id || '/' || o.user_id as user_id,
		t.person_id || '/' || o.previous_id as previous_id, t.person_id || '/' || lower(trim(o.email)) as email, t.person_id || '/' || o.phone as phone,
		t.person_id || '/' || o.device_id as device_id
		from (` + segmentObservations + `) o join main.truth t on t.message_id = o.message_id`
	linking := plainRules()
	for _, id := range linking["identifiers"].([]any) {
		id.(map[string]any)["normalize"] = "trim"
	}
	build(t, wh, identityModel("linked", perPerson, linking))
	_, maxRecall := score(t, wh, "main.linked_events")

	rules, err := ParseRules(segmentRules())
	if err != nil {
		t.Fatal(err)
	}
	if err := rules.Resolve([]string{"message_id", "timestamp", "anonymous_id", "user_id", "previous_id", "email", "phone", "device_id"}); err != nil {
		t.Fatal(err)
	}
	r := newResolver(wh, rules, "acc_", nil)
	defer r.cleanup(ctx)
	if err := r.run(ctx, "("+segmentObservations+")", outputs{Map: "main.acc_map", Edges: "main.acc_edges", Dropped: "main.acc_dropped", RunID: "acc"}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, wh, `CREATE TABLE main.grouped_events AS WITH eh AS (
			SELECT DISTINCT r.event_id, h.hub, t.person_id FROM `+r.tbl("raw")+` r JOIN `+r.tbl("hubs")+` h USING (seq) JOIN main.truth t ON t.message_id = r.event_id),
		owner AS (SELECT hub, arg_max(person_id, n) AS person_id FROM (SELECT hub, person_id, COUNT(*) AS n FROM eh GROUP BY ALL) c GROUP BY hub)
		SELECT eh.event_id, owner.person_id AS profile_id FROM eh JOIN owner USING (hub)`)
	maxPrecision, _ := score(t, wh, "main.grouped_events")
	t.Logf("ceilings: precision %.4f (perfect grouping of identifiers), recall %.4f (perfect linking)", maxPrecision, maxRecall)

	for _, c := range []struct {
		name  string
		rules map[string]any
		check bool
	}{
		{"cdp (default rules)", segmentRules(), true},
		{"plain connected components", plainRules(), false},
		{"anonymous ids bridge profiles (Segment's behaviour)", func() map[string]any {
			r := segmentRules()
			for _, id := range r["identifiers"].([]any) {
				id.(map[string]any)["bridge"] = true
			}
			return r
		}(), false},
	} {
		n := identityModel("idm", segmentObservations, c.rules)
		res := build(t, wh, n)
		p, rc := score(t, wh, "main.idm_events")
		m := queryStrings(t, wh, "SELECT profiles, identifiers, dropped_blocked, dropped_invalid, dropped_limit, dropped_bridge, dropped_max_group_size, largest_profile, rounds, limit_rounds FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1")
		t.Logf("%s: precision %.4f recall %.4f (%.4f of the linkable) (profiles|identifiers|blocked|invalid|limit|bridge|max_group_size|largest|rounds|limit_rounds = %s; %.2fs)",
			c.name, p, rc, rc/maxRecall, m[0], res.Seconds)
		if c.check && (p < 0.99 || p > maxPrecision || rc/maxRecall < 0.99) {
			t.Errorf("%s: precision %.4f (want >= 0.99, ceiling %.4f), recall %.4f of the linkable (want >= 0.99)", c.name, p, maxPrecision, rc/maxRecall)
		}
		mustExec(t, wh, "DROP TABLE main.idm") // the next rules start afresh
	}
}
