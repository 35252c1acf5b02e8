package identity

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A browser shared by two users: the anonymous id stays with the user it was seen with most,
// and its link to the other is refused with reason limit.
func TestLimitSharedBrowser(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "shared", user: "alice"},
		{id: "m2", ts: "2026-01-01 10:05:00", anon: "shared", user: "alice"},
		{id: "m3", ts: "2026-01-01 10:06:00", anon: "a-alice", user: "alice"},
		{id: "m4", ts: "2026-01-02 10:00:00", anon: "shared", user: "bob"},
		{id: "m5", ts: "2026-01-02 10:01:00", anon: "a-bob", user: "bob", email: "bob@shop.io"},
		{id: "m6", ts: "2026-01-03 10:00:00", anon: "shared"},
	})
	n := identityModel("idm", "select * from main.obs", nil)
	build(t, wh, n)
	want := []string{
		"anonymous_id:a-alice anonymous_id:shared user_id:alice",
		"anonymous_id:a-bob email:bob@shop.io user_id:bob",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	dropped := queryStrings(t, wh, "SELECT identifier_type, identifier, other_type, other_identifier, reason, event_id FROM main.idm_dropped_links ORDER BY ALL")
	if diff := cmp.Diff([]string{"user_id|bob|anonymous_id|shared|limit|m4"}, dropped); diff != "" {
		t.Errorf("dropped links (-want +got):\n%s", diff)
	}
	if got := queryInt(t, wh, "SELECT dropped_limit FROM main.idm_metrics"); got != 1 {
		t.Errorf("metrics dropped_limit = %d", got)
	}

	// Seen with bob more often: the anonymous id goes to bob instead.
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "shared", user: "alice"},
		{id: "m4", ts: "2026-01-02 10:00:00", anon: "shared", user: "bob"},
		{id: "m7", ts: "2026-01-02 10:00:01", anon: "shared", user: "bob"},
	})
	build(t, wh, n)
	want = []string{"anonymous_id:shared user_id:bob", "user_id:alice"}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	// A tie goes to the earliest link.
	loadObs(t, wh, []ev{
		{id: "m4", ts: "2026-01-02 10:00:00", anon: "shared", user: "bob"},
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "shared", user: "alice"},
	})
	build(t, wh, n)
	want = []string{"anonymous_id:shared user_id:alice", "user_id:bob"}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles on a tie (-want +got):\n%s", diff)
	}
}

// Limits are enforced in priority order: two user ids never share a profile even through a
// chain of lower-priority identifiers, and lower-priority types are capped at their limit with
// the strongest links kept.
func TestLimitPriority(t *testing.T) {
	wh := openWH(t)
	var evs []ev
	add := func(e ev) {
		e.id = fmt.Sprintf("m%03d", len(evs)+1)
		e.ts = fmt.Sprintf("2026-01-01 10:%02d:%02d", len(evs)/60, len(evs)%60)
		evs = append(evs, e)
	}
	// u1 and u2 are joined by an email (seen with u1 twice, u2 once) and a device.
	add(ev{user: "u1", email: "x@shop.io"})
	add(ev{user: "u1", email: "x@shop.io"})
	add(ev{user: "u2", email: "x@shop.io"})
	add(ev{user: "u2", device: "d1"})
	add(ev{device: "d1", anon: "a1"})
	add(ev{user: "u1", anon: "a1"})
	add(ev{user: "u1", anon: "a1"}) // a1 is seen with u1 more often than with d1
	// u3 has 4 phones; the limit is 3; the phone seen least is dropped.
	for i, k := range []int{3, 2, 1, 2} {
		for range k {
			add(ev{user: "u3", phone: fmt.Sprintf("+1 415 555 01%02d", 30+i)})
		}
	}
	loadObs(t, wh, evs)
	n := identityModel("idm", "select * from main.obs", nil)
	build(t, wh, n)
	want := []string{
		"anonymous_id:a1 email:x@shop.io user_id:u1",
		"device_id:d1 user_id:u2",
		"phone:+14155550130 phone:+14155550131 phone:+14155550133 user_id:u3",
		"phone:+14155550132",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	dropped := queryStrings(t, wh, "SELECT identifier_type, identifier, other_type, other_identifier, reason FROM main.idm_dropped_links ORDER BY ALL")
	wantDropped := []string{
		"device_id|d1|anonymous_id|a1|limit",
		"user_id|u2|email|x@shop.io|limit",
		"user_id|u3|phone|+14155550132|limit",
	}
	if diff := cmp.Diff(wantDropped, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
}

// An anonymous id does not join two known profiles: a browser shared by two persons who each
// left an email stays with the one it was seen with most, the other link is refused (reason
// bridge); with bridge: true it joins them (two emails are within the limit).
func TestBridge(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "family", email: "mum@shop.io"},
		{id: "m2", ts: "2026-01-01 10:01:00", anon: "family", email: "mum@shop.io"},
		{id: "m3", ts: "2026-01-02 10:00:00", anon: "family", email: "kid@shop.io"},
		{id: "m4", ts: "2026-01-02 10:00:00", anon: "phone-app", email: "kid@shop.io"},
		{id: "m5", ts: "2026-01-03 10:00:00", anon: "laptop", user: "dad"},
		{id: "m6", ts: "2026-01-03 10:01:00", anon: "laptop", email: "dad@shop.io"}, // the same person: joined
	})
	n := identityModel("idm", "select * from main.obs", nil)
	build(t, wh, n)
	want := []string{
		"anonymous_id:family email:mum@shop.io",
		"anonymous_id:laptop email:dad@shop.io user_id:dad",
		"anonymous_id:phone-app email:kid@shop.io",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	dropped := queryStrings(t, wh, "SELECT identifier_type, identifier, other_type, other_identifier, reason, event_id FROM main.idm_dropped_links ORDER BY ALL")
	if diff := cmp.Diff([]string{"email|kid@shop.io|anonymous_id|family|bridge|m3"}, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	if got := queryInt(t, wh, "SELECT dropped_bridge FROM main.idm_metrics"); got != 1 {
		t.Errorf("metrics dropped_bridge = %d", got)
	}

	build(t, wh, identityModel("idm", "select * from main.obs", map[string]any{"identifiers": []any{
		map[string]any{"type": "user_id"}, map[string]any{"type": "email"}, map[string]any{"type": "anonymous_id", "bridge": true},
	}}))
	want = []string{
		"anonymous_id:family anonymous_id:phone-app email:kid@shop.io email:mum@shop.io",
		"anonymous_id:laptop email:dad@shop.io user_id:dad",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles with bridge: true (-want +got):\n%s", diff)
	}
}

// A custom type with its own limit and a column that is an expression.
func TestCustomIdentifier(t *testing.T) {
	wh := openWH(t)
	mustExec(t, wh, `CREATE TABLE main.crm AS SELECT * FROM (VALUES
		('m1', TIMESTAMPTZ '2026-01-01 00:00:00+00', 'a1', ' C-1 ', 'x'),
		('m2', TIMESTAMPTZ '2026-01-01 00:01:00+00', 'a1', 'c-2', 'x'),
		('m3', TIMESTAMPTZ '2026-01-01 00:02:00+00', 'a2', 'c-2', 'x'),
		('m4', TIMESTAMPTZ '2026-01-01 00:03:00+00', 'guest-1', 'c-3', 'x')) v(message_id, "timestamp", anonymous_id, crm, other)`)
	n := identityModel("idm", "select * from main.crm", map[string]any{
		"identifiers": []any{
			map[string]any{"type": "crm_id", "column": "upper(crm)", "normalize": "trim", "limit": 1},
			map[string]any{"type": "anonymous_id", "column": "anonymous_id"},
		},
		"blocklist": map[string]any{"patterns": []any{"^guest-.*$"}},
	})
	build(t, wh, n)
	want := []string{
		"anonymous_id:a1 crm_id:C-1",
		"anonymous_id:a2 crm_id:C-2",
		"crm_id:C-3",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	dropped := queryStrings(t, wh, "SELECT identifier_type, identifier, other_type, other_identifier, reason FROM main.idm_dropped_links ORDER BY ALL")
	// Custom types rank after the default ones unless priority lists them: the anonymous id is
	// the link's higher-priority end.
	wantDropped := []string{"anonymous_id|a1|crm_id|C-2|limit", "anonymous_id|guest-1|NULL|NULL|blocked"}
	if diff := cmp.Diff(wantDropped, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
}

func TestMaxGroupSize(t *testing.T) {
	wh := openWH(t)
	var evs []ev
	for i := range 6 {
		evs = append(evs, ev{id: fmt.Sprintf("m%d", i), anon: "kiosk", email: fmt.Sprintf("p%d@shop.io", i)})
	}
	evs = append(evs, ev{id: "m9", anon: "a9", email: "p0@shop.io"})
	loadObs(t, wh, evs)
	n := identityModel("idm", "select * from main.obs", map[string]any{"max_group_size": 5})
	build(t, wh, n)
	want := []string{
		"anonymous_id:a9 email:p0@shop.io",
		"anonymous_id:kiosk",
		"email:p1@shop.io", "email:p2@shop.io", "email:p3@shop.io", "email:p4@shop.io", "email:p5@shop.io",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	if got := queryInt(t, wh, "SELECT COUNT(*) FROM main.idm_dropped_links WHERE reason = 'max_group_size' AND other_identifier = 'kiosk'"); got != 6 {
		t.Errorf("%d links of the kiosk dropped, want 6", got)
	}
	if got := queryInt(t, wh, "SELECT dropped_max_group_size FROM main.idm_metrics"); got != 6 {
		t.Errorf("metrics dropped_max_group_size = %d", got)
	}
}

// randomEvents makes a messy graph: persons with several identifiers, shared browsers, shared
// emails, placeholder values.
func randomEvents(seed uint64, persons int) []ev {
	rng := rand.New(rand.NewPCG(seed, 1))
	var evs []ev
	for p := range persons {
		user := ""
		if rng.IntN(3) > 0 {
			user = fmt.Sprintf("u%d", p)
		}
		email := fmt.Sprintf("p%d@shop.io", p)
		anons := []string{fmt.Sprintf("a%d", p), fmt.Sprintf("b%d", p)}
		if p > 0 && rng.IntN(5) == 0 {
			anons = append(anons, fmt.Sprintf("a%d", p-1)) // shared browser
		}
		for k := range 3 + rng.IntN(8) {
			e := ev{id: fmt.Sprintf("m%d-%d", p, k), ts: fmt.Sprintf("2026-01-%02d 10:%02d:00", 1+rng.IntN(28), rng.IntN(60)), anon: anons[rng.IntN(len(anons))]}
			switch rng.IntN(6) {
			case 0:
				e.user = user
			case 1:
				e.email = email
			case 2:
				e.user, e.email = user, email
			case 3:
				e.phone = fmt.Sprintf("415555%04d", p)
			case 4:
				if rng.IntN(10) == 0 {
					e.user = "null"
				}
				if rng.IntN(10) == 0 {
					e.email = fmt.Sprintf("p%d@shop.io", rng.IntN(persons)) // typo'd someone else's
				}
			}
			evs = append(evs, e)
		}
	}
	return evs
}

// The result depends on the set of events only, not on the order they were loaded in.
func TestOrderIndependence(t *testing.T) {
	wh := openWH(t)
	evs := randomEvents(7, 150)
	n := identityModel("idm", "select * from main.obs", nil)
	var first []string
	var firstDropped []string
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4 {
		perm := append([]ev(nil), evs...)
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		loadObs(t, wh, perm)
		build(t, wh, n)
		got := queryStrings(t, wh, "SELECT identifier_type, identifier, profile_id, first_seen_at, last_seen_at FROM main.idm ORDER BY ALL")
		dropped := queryStrings(t, wh, "SELECT identifier_type, identifier, other_type, other_identifier, reason, event_id, events FROM main.idm_dropped_links ORDER BY ALL")
		if i == 0 {
			first, firstDropped = got, dropped
			if queryInt(t, wh, "SELECT dropped_limit FROM main.idm_metrics") == 0 {
				t.Fatal("the random events break no limit; the test would prove little")
			}
			continue
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("permutation %d changed the identity map (-first +now):\n%s", i, diff)
		}
		if diff := cmp.Diff(firstDropped, dropped); diff != "" {
			t.Fatalf("permutation %d changed the dropped links (-first +now):\n%s", i, diff)
		}
		// No change is recorded between equal maps.
		if got := queryInt(t, wh, "SELECT COUNT(*) FROM main.idm_changes"); got != 0 {
			t.Fatalf("%d changes recorded between identical maps", got)
		}
	}
}

// Every profile respects every limit, on a messy graph.
func TestLimitsHold(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, randomEvents(11, 300))
	build(t, wh, identityModel("idm", "select * from main.obs", map[string]any{
		"identifiers": []any{
			map[string]any{"type": "user_id", "limit": 1},
			map[string]any{"type": "email", "limit": 1},
			map[string]any{"type": "phone", "limit": 1},
			map[string]any{"type": "anonymous_id", "limit": 2},
		},
	}))
	over := queryStrings(t, wh, `SELECT profile_id, identifier_type, COUNT(*) FROM main.idm GROUP BY ALL
		HAVING COUNT(*) > CASE identifier_type WHEN 'anonymous_id' THEN 2 ELSE 1 END`)
	if len(over) > 0 {
		t.Errorf("profiles over a limit: %v", over)
	}
	// Accepted links stay inside profiles, refused ones across them.
	if got := queryInt(t, wh, `SELECT COUNT(*) FROM main.idm_edges e JOIN main.idm a ON a.identifier_type = e.identifier_type AND a.identifier = e.identifier
		JOIN main.idm b ON b.identifier_type = e.other_type AND b.identifier = e.other_identifier WHERE a.profile_id <> b.profile_id OR a.profile_id <> e.profile_id`); got != 0 {
		t.Errorf("%d accepted links cross profiles", got)
	}
	if got := queryInt(t, wh, `SELECT COUNT(*) FROM main.idm_dropped_links e JOIN main.idm a ON a.identifier_type = e.identifier_type AND a.identifier = e.identifier
		JOIN main.idm b ON b.identifier_type = e.other_type AND b.identifier = e.other_identifier WHERE a.profile_id = b.profile_id`); got != 0 {
		t.Errorf("%d refused links are inside a profile", got)
	}
	// Every profile is connected by its accepted links: profiles = identifiers - links (a forest
	// of stars has one link fewer than identifiers per profile, at most).
	ids, links, profs := queryInt(t, wh, "SELECT COUNT(*) FROM main.idm"), queryInt(t, wh, "SELECT COUNT(*) FROM main.idm_edges"), queryInt(t, wh, "SELECT COUNT(DISTINCT profile_id) FROM main.idm")
	if links < ids-profs {
		t.Errorf("%d identifiers in %d profiles need at least %d links, have %d", ids, profs, ids-profs, links)
	}
}

// Profile ids survive a full rebuild and new events that do not merge or split anything; a new
// event that links two profiles is recorded as a merge, a blocklist change that separates them
// as a split.
func TestStableIDsMergeSplit(t *testing.T) {
	wh := openWH(t)
	evs := []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "a1", email: "x@shop.io"},
		{id: "m2", ts: "2026-01-01 11:00:00", anon: "a2", user: "u2"},
		{id: "m3", ts: "2026-01-01 12:00:00", anon: "a3", email: "y@shop.io"},
	}
	loadObs(t, wh, evs)
	// Anonymous ids bridge profiles here, so that one event can merge two.
	bridging := func() map[string]any {
		return map[string]any{"identifiers": []any{
			map[string]any{"type": "user_id"}, map[string]any{"type": "email"}, map[string]any{"type": "anonymous_id", "bridge": true},
		}}
	}
	n := identityModel("idm", "select * from main.obs", bridging())
	build(t, wh, n)
	px, pu2, py := profileOf(t, wh, "main.idm", "email", "x@shop.io"), profileOf(t, wh, "main.idm", "user_id", "u2"), profileOf(t, wh, "main.idm", "email", "y@shop.io")
	if !strings.HasPrefix(px, "p_") || len(px) != 18 || px == pu2 || px == py {
		t.Fatalf("profile ids %q %q %q", px, pu2, py)
	}
	// The id is md5 of the anchor.
	if got := queryStrings(t, wh, "SELECT 'p_' || substr(md5('email:x@shop.io'), 1, 16)"); got[0] != px {
		t.Errorf("profile id %s, want %s", px, got[0])
	}

	// A full rebuild from scratch gives the same ids.
	mustExec(t, wh, "DROP TABLE main.idm")
	build(t, wh, n)
	if got := profileOf(t, wh, "main.idm", "anonymous_id", "a1"); got != px {
		t.Errorf("after a full rebuild a1 is in %s, want %s", got, px)
	}
	// Later events that add identifiers keep the ids.
	evs = append(evs, ev{id: "m4", ts: "2026-01-02 10:00:00", anon: "a1b", email: "x@shop.io"})
	loadObs(t, wh, evs)
	build(t, wh, n)
	if got := profileOf(t, wh, "main.idm", "anonymous_id", "a1b"); got != px {
		t.Errorf("a1b joined %s, want %s", got, px)
	}
	if got := queryInt(t, wh, "SELECT COUNT(*) FROM main.idm_changes"); got != 0 {
		t.Errorf("%d changes recorded, want none", got)
	}

	// A new event links x's profile and y's: y's identifiers move to x's profile (x was seen
	// first), recorded as a merge.
	evs = append(evs, ev{id: "m5", ts: "2026-01-03 10:00:00", anon: "a3", email: "x@shop.io"})
	loadObs(t, wh, evs)
	build(t, wh, n)
	if got := profileOf(t, wh, "main.idm", "email", "y@shop.io"); got != px {
		t.Errorf("y is in %s after the merge, want %s", got, px)
	}
	changes := queryStrings(t, wh, "SELECT identifier_type, identifier, old_profile_id, new_profile_id, reason FROM main.idm_changes ORDER BY ALL")
	want := []string{
		"anonymous_id|a3|" + py + "|" + px + "|merge",
		"email|y@shop.io|" + py + "|" + px + "|merge",
	}
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := queryStrings(t, wh, "SELECT merges, splits FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1"); got[0] != "1|0" {
		t.Errorf("metrics merges|splits = %s", got[0])
	}

	// Blocking the anonymous id that joined them splits them again: y gets its own id back.
	rules := bridging()
	rules["blocklist"] = map[string]any{"values": []any{"a3"}}
	n2 := identityModel("idm", "select * from main.obs", rules)
	build(t, wh, n2)
	if got := profileOf(t, wh, "main.idm", "email", "y@shop.io"); got != py {
		t.Errorf("y is in %s after the split, want %s", got, py)
	}
	changes = queryStrings(t, wh, "SELECT identifier_type, identifier, old_profile_id, new_profile_id, reason FROM main.idm_changes ORDER BY changed_at, identifier_type, identifier")
	want = append(want,
		"anonymous_id|a3|"+px+"|NULL|removed",
		"email|y@shop.io|"+px+"|"+py+"|split",
	)
	if diff := cmp.Diff(want, changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := queryStrings(t, wh, "SELECT merges, splits FROM main.idm_metrics ORDER BY built_at DESC LIMIT 1"); got[0] != "0|1" {
		t.Errorf("metrics merges|splits = %s", got[0])
	}
	if got := queryInt(t, wh, "SELECT COUNT(*) FROM main.idm_metrics"); got != 5 {
		t.Errorf("%d metrics rows, want one per build (5)", got)
	}
}

func TestMaxRoundsFailsLoudly(t *testing.T) {
	wh := openWH(t)
	// A long chain: email k shares a browser with email k+1, numbered so that every round of
	// hooking only halves it.
	var evs []ev
	for i := range 64 {
		evs = append(evs, ev{id: fmt.Sprintf("m%d", i), ts: "2026-01-01 00:00:00", anon: fmt.Sprintf("a%02d", i), email: fmt.Sprintf("e%02d@shop.io", i)})
		evs = append(evs, ev{id: fmt.Sprintf("n%d", i), ts: "2026-01-01 00:00:00", anon: fmt.Sprintf("a%02d", i+1), email: fmt.Sprintf("e%02d@shop.io", i)})
	}
	loadObs(t, wh, evs)
	rules := map[string]any{"max_rounds": 1, "identifiers": []any{
		map[string]any{"type": "email", "limit": 0}, map[string]any{"type": "anonymous_id", "limit": 0, "bridge": true},
	}}
	res := tryBuild(t, wh, identityModel("idm", "select * from main.obs", rules))
	if res.Status == "success" || !strings.Contains(res.Error, "did not converge in 1 rounds") || !strings.Contains(res.Error, "max_rounds") {
		t.Fatalf("want a max_rounds failure, got %s: %s", res.Status, res.Error)
	}
	rules["max_rounds"] = 40
	build(t, wh, identityModel("idm", "select * from main.obs", rules))
	if got := profiles(t, wh, "main.idm"); len(got) != 1 {
		t.Errorf("%d profiles, want 1", len(got))
	}
}

// components agrees with plain label propagation, in O(log n) rounds where propagation needs
// one per hop.
func TestComponents(t *testing.T) {
	wh := openWH(t)
	ctx := context.Background()
	r := newResolver(wh, &Rules{MaxRounds: 40}, "t_", t.Logf)
	defer r.cleanup(ctx)
	rng := rand.New(rand.NewPCG(3, 4))
	graphs := map[string][][2]int{}
	// A path with shuffled labels, a star, a cycle, random sparse graphs.
	perm := rng.Perm(1000)
	for i := 0; i+1 < len(perm); i++ {
		graphs["path"] = append(graphs["path"], [2]int{perm[i] + 1, perm[i+1] + 1})
	}
	for i := 2; i < 300; i++ {
		graphs["star"] = append(graphs["star"], [2]int{1, i})
	}
	for i := 1; i <= 200; i++ {
		graphs["cycle"] = append(graphs["cycle"], [2]int{i, i%200 + 1})
	}
	for k := range 3 {
		name := fmt.Sprintf("random%d", k)
		for range 1500 {
			graphs[name] = append(graphs[name], [2]int{1 + rng.IntN(2000), 1 + rng.IntN(2000)})
		}
	}
	for name, g := range graphs {
		var vals []string
		for _, e := range g {
			vals = append(vals, fmt.Sprintf("(%d, %d)", e[0], e[1]))
		}
		mustExec(t, wh, "CREATE OR REPLACE TABLE g (a BIGINT, b BIGINT)")
		mustExec(t, wh, "INSERT INTO g VALUES "+strings.Join(vals, ", "))
		rounds, err := r.components(ctx, name, "g", "cc_out")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		prounds, err := r.propagate(ctx, "g", "lp_out", 10000)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(queryStrings(t, wh, "SELECT node, label FROM lp_out ORDER BY node"), queryStrings(t, wh, "SELECT node, label FROM cc_out ORDER BY node")); diff != "" {
			t.Errorf("%s: components differ from label propagation (-propagation +components):\n%s", name, diff)
		}
		// Labels are the smallest node of each component.
		if got := queryInt(t, wh, "SELECT COUNT(*) FROM cc_out c WHERE label > node OR label <> (SELECT MIN(node) FROM cc_out d WHERE d.label = c.label)"); got != 0 {
			t.Errorf("%s: %d labels are not their component's minimum", name, got)
		}
		t.Logf("%s: %d edges: %d rounds (label propagation: %d)", name, len(g), rounds, prounds)
		if name == "path" && rounds > 12 {
			t.Errorf("path of 1000: %d rounds, want O(log n)", rounds)
		}
	}
}

// Rows with the same event id and timestamp are one event: their identifiers are linked, and
// the event has one profile.
func TestMultiRowEvents(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "a1"},
		{id: "m1", ts: "2026-01-01 10:00:00", email: "x@shop.io"},
		{id: "m2", ts: "2026-01-01 10:00:01", anon: "a2"},
	})
	build(t, wh, identityModel("idm", "select * from main.obs", nil))
	if diff := cmp.Diff([]string{"anonymous_id:a1 email:x@shop.io", "anonymous_id:a2"}, profiles(t, wh, "main.idm")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	got := queryStrings(t, wh, "SELECT e.event_id, m.identifier FROM main.idm_events e JOIN main.idm m USING (profile_id) WHERE m.identifier_type = 'anonymous_id' ORDER BY ALL")
	if diff := cmp.Diff([]string{"m1|a1", "m2|a2"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
