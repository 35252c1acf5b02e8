package identity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBasic(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "a1"},
		{id: "m2", ts: "2026-01-01 10:01:00", anon: "a1", user: "u1", email: " Jane@Shop.IO "},
		{id: "m3", ts: "2026-01-02 10:00:00", anon: "a2", email: "jane@shop.io"},
		{id: "m4", ts: "2026-01-02 11:00:00", anon: "a3", user: "u2"},
		{id: "m5", ts: "2026-01-02 11:00:00", anon: "anonymous", user: "null"},
	})
	n := identityModel("identity_map", "select * from main.obs", nil)
	res := build(t, wh, n)
	t.Logf("%+v", res)
	want := []string{
		"anonymous_id:a1 anonymous_id:a2 email:jane@shop.io user_id:u1",
		"anonymous_id:a3 user_id:u2",
	}
	if diff := cmp.Diff(want, profiles(t, wh, "main.identity_map")); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
	t.Log(queryStrings(t, wh, "select * from main.identity_map_dropped_links"))
	t.Log(queryStrings(t, wh, "select * from main.identity_map_edges"))
	t.Log(queryStrings(t, wh, "select * from main.identity_map_metrics"))
}
