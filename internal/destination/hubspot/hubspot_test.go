package hubspot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
)

var ctx = context.Background()

func newDest(t *testing.T, base string, extra map[string]any) *Dest {
	t.Helper()
	cfg := map[string]any{"token": "pat-test", "base_url": base, "list_id": "42"}
	for k, v := range extra {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var plain = regexp.MustCompile(`^[a-z0-9-]+$`)

// emailKey makes the suite's keys emails HubSpot accepts.
func emailKey(seed string) string {
	s := strings.ToLower(seed)
	if !plain.MatchString(s) {
		sum := sha256.Sum256([]byte(seed))
		s = "u-" + hex.EncodeToString(sum[:6])
	}
	return s + "@example.com"
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at HubSpot's rate limit: a few seconds")
	}
	for _, mode := range []string{"upsert", "audience"} {
		t.Run(mode, func(t *testing.T) {
			f, srv := newFake(t)
			f.p429 = 0.15
			d := newDest(t, srv.URL, nil)
			destinationtest.Run(t, d, destinationtest.Options{
				Mode: mode,
				Key:  emailKey,
				Fields: func(key string, i int) map[string]any {
					m := destinationtest.DefaultFields(key, i)
					m["email"] = key
					return m
				},
				Equal: destinationtest.TextEqual,
				Readback: func(t *testing.T) []destination.Row {
					if mode == "audience" {
						return f.listRows("42")
					}
					return f.contactsRows()
				},
			})
			if f.throttled > 0 {
				t.Errorf("the destination went over the fake's %d requests/second %d times", f.rps, f.throttled)
			}
			t.Logf("calls %v, random 429s %d", f.calls, f.random429)
		})
	}
}

func rows(a destination.Action, emails ...string) []destination.Row {
	var out []destination.Row
	for i, e := range emails {
		out = append(out, destination.Row{Key: e, Action: a, Fields: map[string]any{"email": e, "firstname": fmt.Sprint("N", i)}})
	}
	return out
}

func write(t *testing.T, d *Dest, b destination.Batch) destination.Result {
	t.Helper()
	res, err := d.Write(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(b.Rows) {
		t.Fatalf("%d results for %d rows", len(res.Rows), len(b.Rows))
	}
	return res
}

func keys(rs []destination.Row) string {
	var k []string
	for _, r := range rs {
		k = append(k, r.Key)
	}
	return strings.Join(k, ",")
}

func TestAudience(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	res := write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: rows(destination.Add, "a@x.io", "B@x.io", "c@x.io")})
	for i, r := range res.Rows {
		if r.Outcome != destination.OK {
			t.Errorf("row %d: %v %s", i, r.Outcome, r.Reason)
		}
	}
	b := destination.Batch{Sync: "vip", ID: "2", Mode: "audience", Rows: append(rows(destination.Remove, "b@x.io", "nobody@x.io"), rows(destination.Change, "a@x.io")...)}
	b.Rows[0].Fields = nil // a remove may come without fields: the key is the email
	res = write(t, d, b)
	for i, r := range res.Rows {
		if r.Outcome != destination.OK {
			t.Errorf("row %d: %v %s", i, r.Outcome, r.Reason)
		}
	}
	if got := keys(f.listRows("42")); got != "a@x.io,c@x.io" {
		t.Errorf("list members %s", got)
	}
	if got := keys(f.contactsRows()); got != "a@x.io,b@x.io,c@x.io" {
		t.Errorf("contacts %s (removes never delete contacts)", got)
	}
}

func TestMatchOnFieldNotKey(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: []destination.Row{
		{Key: "p_1", Action: destination.Add, Fields: map[string]any{"email": "Ann@X.io", "lifetime_value": 12.5}},
	}})
	got := f.listRows("42")
	if len(got) != 1 || got[0].Key != "ann@x.io" || got[0].Fields["lifetime_value"] != "12.5" {
		t.Errorf("list rows %+v", got)
	}
	// The remove carries the last acknowledged fields, so the contact is found by its email.
	write(t, d, destination.Batch{Sync: "vip", ID: "2", Mode: "audience", Rows: []destination.Row{
		{Key: "p_1", Action: destination.Remove, Fields: map[string]any{"email": "ann@x.io"}},
	}})
	if got := f.listRows("42"); len(got) != 0 {
		t.Errorf("still in the list: %+v", got)
	}
}

func TestInvalidEmailRejectsTheCall(t *testing.T) {
	_, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	res := write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "upsert", Rows: rows(destination.Add, "ok@x.io", "not-an-email")})
	for i, r := range res.Rows {
		if r.Outcome != destination.Rejected || !strings.Contains(r.Reason, "INVALID_EMAIL") || !strings.Contains(r.Reason, "HTTP 400") {
			t.Errorf("row %d: %v %q, want rejected with HubSpot's message", i, r.Outcome, r.Reason)
		}
	}
	// Split, the good row goes through (what the engine does to isolate bad rows).
	res = write(t, d, destination.Batch{Sync: "vip", ID: "1a", Mode: "upsert", Rows: rows(destination.Add, "ok@x.io")})
	if res.Rows[0].Outcome != destination.OK {
		t.Errorf("good row alone: %+v", res.Rows[0])
	}
}

func TestRowProblems(t *testing.T) {
	_, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	res := write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "upsert", Rows: []destination.Row{
		{Key: "", Action: destination.Add},
		{Key: "a@x.io", Action: destination.Remove},
		{Key: "b@x.io", Action: destination.Add},
	}})
	// The remove of a contact that does not exist has nothing to take back.
	want := []destination.Outcome{destination.Rejected, destination.OK, destination.OK}
	for i, r := range res.Rows {
		if r.Outcome != want[i] {
			t.Errorf("row %d: %v %q, want %v", i, r.Outcome, r.Reason, want[i])
		}
	}
}

// In upsert mode a remove is a withdrawn consent: the properties cdp sent are cleared, the
// contact stays (with its email and what others wrote), and no contact is created for it.
func TestWithdrawnConsentInUpsertMode(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "upsert", Rows: []destination.Row{
		{Key: "p_1", Action: destination.Add, Fields: map[string]any{"email": "ann@x.io", "plan": "pro", "spend": 12.5}},
		{Key: "p_2", Action: destination.Add, Fields: map[string]any{"email": "bob@x.io", "plan": "free", "spend": 1}},
	}})
	f.mu.Lock()
	f.contacts[f.byEmail["ann@x.io"]]["owner"] = "sales"
	f.mu.Unlock()
	res := write(t, d, destination.Batch{Sync: "vip", ID: "2", Mode: "upsert", Rows: []destination.Row{
		{Key: "p_1", Action: destination.Remove, Fields: map[string]any{"email": "ann@x.io", "plan": "pro", "spend": 12.5}},
		{Key: "p_3", Action: destination.Remove, Fields: map[string]any{"email": "nobody@x.io", "plan": "pro"}},
	}})
	for i, r := range res.Rows {
		if r.Outcome != destination.OK {
			t.Errorf("row %d: %v %s", i, r.Outcome, r.Reason)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[string]string{"email": "ann@x.io", "plan": "", "spend": "", "owner": "sales"}
	if diff := cmp.Diff(want, f.contacts[f.byEmail["ann@x.io"]]); diff != "" {
		t.Errorf("ann after withdrawing (-want +got):\n%s", diff)
	}
	if got := f.contacts[f.byEmail["bob@x.io"]]["plan"]; got != "free" {
		t.Errorf("bob's plan = %q, want untouched", got)
	}
	if _, ok := f.byEmail["nobody@x.io"]; ok {
		t.Error("a contact was created for a withdrawn consent")
	}
	if f.calls["POST /crm/v3/objects/contacts/batch/update"] != 1 {
		t.Errorf("calls %v", f.calls)
	}
}

func TestFakeEnforcesBatchLimit(t *testing.T) {
	_, srv := newFake(t)
	var in bytes.Buffer
	in.WriteString(`{"inputs":[`)
	for i := range MaxInputs + 1 {
		if i > 0 {
			in.WriteByte(',')
		}
		fmt.Fprintf(&in, `{"idProperty":"email","id":"u%d@x.io","properties":{}}`, i)
	}
	in.WriteString(`]}`)
	req, _ := http.NewRequest("POST", srv.URL+"/crm/v3/objects/contacts/batch/upsert", &in)
	req.Header.Set("Authorization", "Bearer pat-test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("101 inputs: HTTP %d, want 400", resp.StatusCode)
	}
	// The destination never sends more than 100.
	d := newDest(t, srv.URL, nil)
	if _, err := d.Write(ctx, destination.Batch{Sync: "vip", Mode: "upsert", Rows: rows(destination.Add, make([]string, MaxInputs+1)...)}); err == nil {
		t.Error("a batch of 101 rows was accepted")
	}
}

func TestAuth(t *testing.T) {
	_, srv := newFake(t)
	resp, err := http.Post(srv.URL+"/crm/v3/objects/contacts/batch/upsert", "application/json", strings.NewReader(`{"inputs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no Authorization: HTTP %d, want 401", resp.StatusCode)
	}
	d := newDest(t, srv.URL, map[string]any{"token": "wrong"})
	_, err = d.Write(ctx, destination.Batch{Sync: "vip", ID: "1", Mode: "upsert", Rows: rows(destination.Add, "a@x.io")})
	var re *destination.RetryableError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "check token") {
		t.Errorf("wrong token: %v, want a final error saying to check the token", err)
	}
}

func TestRandom429IsRetryable(t *testing.T) {
	f, srv := newFake(t)
	f.p429 = 1
	d := newDest(t, srv.URL, nil)
	_, err := d.Write(ctx, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: rows(destination.Add, "a@x.io")})
	var re *destination.RetryableError
	if !errors.As(err, &re) || re.RetryAfter != time.Second {
		t.Fatalf("err = %v, want a RetryableError with RetryAfter 1s", err)
	}
	f.mu.Lock()
	f.p429 = 0
	f.mu.Unlock()
	write(t, d, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: rows(destination.Add, "a@x.io")})
	if got := keys(f.listRows("42")); got != "a@x.io" {
		t.Errorf("after the retry: %s", got)
	}
}

func TestRateLimitOfTheFake(t *testing.T) {
	f, srv := newFake(t)
	// A destination allowed 1000 requests/s goes over the fake's 10 and is told to wait.
	d := newDest(t, srv.URL, map[string]any{"rate_limit": 1000})
	var retry *destination.RetryableError
	for i := 0; i < 30 && retry == nil; i++ {
		_, err := d.Write(ctx, destination.Batch{Sync: "vip", ID: fmt.Sprint(i), Mode: "upsert", Rows: rows(destination.Add, "a@x.io")})
		errors.As(err, &retry)
	}
	if retry == nil || retry.RetryAfter != time.Second || f.throttled == 0 {
		t.Errorf("no 429 with Retry-After after 30 fast requests: %v", retry)
	}
}

func TestListProblems(t *testing.T) {
	_, srv := newFake(t)
	d := newDest(t, srv.URL, map[string]any{"list_id": nil})
	_, err := d.Write(ctx, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: rows(destination.Add, "a@x.io")})
	if err == nil || !strings.Contains(err.Error(), "set list_id") {
		t.Errorf("audience without list_id: %v", err)
	}
	d = newDest(t, srv.URL, map[string]any{"list_id": "7"})
	_, err = d.Write(ctx, destination.Batch{Sync: "vip", ID: "1", Mode: "audience", Rows: rows(destination.Add, "a@x.io")})
	if err == nil || !strings.Contains(err.Error(), "list 7 not found") {
		t.Errorf("unknown list: %v", err)
	}
	if _, err := d.Write(ctx, destination.Batch{Sync: "vip", Mode: "mirror", Rows: rows(destination.Add, "a@x.io")}); err == nil {
		t.Error("mirror mode accepted")
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"token": "t"}, ""},
		{map[string]any{"token": "t", "list_id": 123, "rate_limit": "5"}, ""},
		{map[string]any{}, `field "token": required; set token: ${HUBSPOT_TOKEN}`},
		{map[string]any{"token": "${HUBSPOT_TOKEN}"}, "environment variable HUBSPOT_TOKEN is not set"},
		{map[string]any{"token": "Bearer abc"}, "without \"Bearer \""},
		{map[string]any{"token": "t", "list_id": "vip list"}, `field "list_id": must be the list's numeric ID`},
		{map[string]any{"token": "t", "list": "1"}, `did you mean "list_id"?`},
		{map[string]any{"token": "t", "base_url": "api.hubapi.com"}, `field "base_url": must be an http:// or https:// URL`},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v:\n error %v\n want one containing %q", tc.cfg, err, tc.want)
		}
	}
	if s, ok := destination.Default.Spec("hubspot"); !ok || s.BatchSize != 100 {
		t.Errorf("registered spec %+v, %v", s, ok)
	}
}
