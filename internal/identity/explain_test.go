package identity

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

func TestExplain(t *testing.T) {
	wh := openWH(t)
	ctx := context.Background()
	rel := warehouse.Relation{Schema: "main", Name: "identity_map"}
	if _, err := Explain(ctx, wh, rel, "x", ""); !errors.Is(err, ErrNoIdentityMap) {
		t.Fatalf("before a build: %v", err)
	}
	loadObs(t, wh, []ev{
		{id: "m1", ts: "2026-01-01 10:00:00", anon: "shared", user: "alice", email: "Alice@Shop.io"},
		{id: "m2", ts: "2026-01-01 10:05:00", anon: "shared", user: "alice", phone: "(415) 555-0134"},
		{id: "m3", ts: "2026-01-02 10:00:00", anon: "shared", user: "bob"},
		{id: "m4", ts: "2026-01-02 10:01:00", anon: "a-bob", user: "bob", email: "test@test.com"},
	})
	build(t, wh, identityModel("identity_map", "select * from main.obs", nil))

	// The input is normalized: an email in capitals with spaces, a phone in another format.
	for _, in := range []string{" ALICE@shop.IO ", "+1 415 555 0134", "alice"} {
		ex, err := Explain(ctx, wh, rel, in, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Profiles) != 1 {
			t.Fatalf("%q: %d profiles", in, len(ex.Profiles))
		}
		p := ex.Profiles[0]
		var ids []string
		for _, id := range p.Identifiers {
			ids = append(ids, id.Type+":"+id.Value+"@"+id.FirstSeen.Format("02T15:04"))
		}
		want := []string{"user_id:alice@01T10:00", "email:alice@shop.io@01T10:00", "phone:+14155550134@01T10:05", "anonymous_id:shared@01T10:00"}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("%q: identifiers (-want +got):\n%s", in, diff)
		}
		var links []string
		for _, l := range p.Links {
			links = append(links, l.Type+":"+l.Value+"-"+l.OtherType+":"+l.OtherValue+"/"+l.EventID)
		}
		wantLinks := []string{"user_id:alice-anonymous_id:shared/m1", "user_id:alice-email:alice@shop.io/m1", "user_id:alice-phone:+14155550134/m2"}
		if diff := cmp.Diff(wantLinks, links); diff != "" {
			t.Errorf("%q: links (-want +got):\n%s", in, diff)
		}
		if len(p.Refused) != 1 || p.Refused[0].Reason != "limit" || p.Refused[0].Value != "bob" || p.Refused[0].EventID != "m3" || p.Refused[0].Events != 1 {
			t.Errorf("%q: refused %+v", in, p.Refused)
		}
	}
	// --type narrows the lookup.
	ex, err := Explain(ctx, wh, rel, "alice", "email")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Profiles) != 0 {
		t.Errorf("alice as an email: %+v", ex.Profiles)
	}
	if _, err := Explain(ctx, wh, rel, "alice", "crm_id"); err == nil || !strings.Contains(err.Error(), "user_id, email, phone, device_id, anonymous_id") {
		t.Errorf("unknown type: %v", err)
	}
	// A blocked value says why it is in no profile.
	ex, err = Explain(ctx, wh, rel, "test@test.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Profiles) != 0 || len(ex.Dropped) != 1 || ex.Dropped[0].Reason != "blocked" || ex.Dropped[0].EventID != "m4" || ex.Dropped[0].Events != 1 {
		t.Errorf("blocked value: %+v", ex)
	}
	// It is plain data for --json.
	b, err := json.Marshal(ex)
	if err != nil || !strings.Contains(string(b), `"reason":"blocked"`) {
		t.Errorf("json: %s %v", b, err)
	}
}
