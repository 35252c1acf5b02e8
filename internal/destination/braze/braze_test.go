package braze

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
)

var ctx = context.Background()

func newDest(t *testing.T, url string, extra map[string]any) *Dest {
	t.Helper()
	cfg := map[string]any{"api_key": "braze-key", "rest_endpoint": url}
	for k, v := range extra {
		cfg[k] = v
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConformance(t *testing.T) {
	for _, mode := range []string{"mirror", "upsert"} {
		t.Run(mode, func(t *testing.T) {
			f, srv := newFake(t)
			f.p429, f.retryAfter = 0.1, "0.05"
			destinationtest.Run(t, newDest(t, srv.URL, nil), destinationtest.Options{Mode: mode, Readback: f.readback})
			if f.random429 == 0 {
				t.Log("no random 429 happened")
			}
		})
	}
}

func row(a destination.Action, key string, fields map[string]any) destination.Row {
	return destination.Row{Key: key, Action: a, Fields: fields}
}

func TestPartialFailures(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	rows := []destination.Row{
		row(destination.Add, "u1", map[string]any{"email": "a@x.io", "plan": "pro"}),
		row(destination.Add, "", map[string]any{"plan": "free"}),
		row(destination.Add, "u3", map[string]any{"email": "not-an-email"}),
		row(destination.Change, "u4", map[string]any{"plan": "team"}),
		row(destination.Add, "u5", map[string]any{"external_id": "custom-5", "plan": "x"}),
	}
	res, err := d.Write(ctx, destination.Batch{Sync: "s", ID: "1", Mode: "upsert", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	want := []destination.Outcome{destination.OK, destination.Rejected, destination.Rejected, destination.OK, destination.OK}
	for i, r := range res.Rows {
		if r.Outcome != want[i] {
			t.Errorf("row %d: %s (%s), want %s", i, r.Outcome, r.Reason, want[i])
		}
	}
	if !strings.Contains(res.Rows[1].Reason, "external_id") || res.Rows[2].Reason != "Invalid email address" {
		t.Errorf("reasons: %q, %q", res.Rows[1].Reason, res.Rows[2].Reason)
	}
	if _, ok := f.users["u3"]; ok {
		t.Error("rejected user u3 recorded")
	}
	if f.users["u1"]["plan"] != "pro" || f.users["u4"]["plan"] != "team" || f.users["custom-5"]["plan"] != "x" {
		t.Errorf("users: %v", f.users)
	}
}

func TestPartialFailuresAcrossRequests(t *testing.T) {
	// 80 rows go as 75 + 5; a bad row in the second request maps back to its own row.
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	var rows []destination.Row
	for i := range 80 {
		rows = append(rows, row(destination.Add, fmt.Sprint("u", i), map[string]any{"email": fmt.Sprintf("u%d@x.io", i)}))
	}
	rows[77].Fields["email"] = "bad"
	res, err := d.Write(ctx, destination.Batch{ID: "1", Mode: "upsert", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Rows {
		if (r.Outcome == destination.Rejected) != (i == 77) {
			t.Errorf("row %d: %s", i, r.Outcome)
		}
	}
	if f.requests != 2 || f.maxAttrs != MaxAttributes || len(f.users) != 79 {
		t.Errorf("requests %d, most attributes %d, users %d", f.requests, f.maxAttrs, len(f.users))
	}
}

func TestFakeLimit(t *testing.T) {
	_, srv := newFake(t)
	body := `{"attributes":[` + strings.Repeat(`{"external_id":"x"},`, 75) + `{"external_id":"y"}]}`
	req, _ := http.NewRequest("POST", srv.URL+"/users/track", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer braze-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("76 attributes: HTTP %d, want 400", resp.StatusCode)
	}
	if Spec.BatchSize != 75 || Spec.Concurrency != 4 {
		t.Errorf("spec %+v", Spec)
	}
}

func TestStatuses(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	b := destination.Batch{ID: "1", Mode: "upsert", Rows: []destination.Row{row(destination.Add, "u1", map[string]any{"a": 1}), row(destination.Add, "u2", nil)}}
	var re *destination.RetryableError

	f.p429, f.retryAfter = 1, "7"
	_, err := d.Write(ctx, b)
	if !errors.As(err, &re) || re.RetryAfter != 7*time.Second {
		t.Errorf("429 with Retry-After: %v", err)
	}
	f.p429 = 0

	reset := time.Now().Add(30 * time.Second).Unix()
	f.force = func(w http.ResponseWriter) bool {
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		writeJSON(w, 429, map[string]any{"message": "rate limited"})
		return true
	}
	_, err = d.Write(ctx, b)
	if !errors.As(err, &re) || re.RetryAfter < 25*time.Second || re.RetryAfter > 31*time.Second {
		t.Errorf("429 with X-RateLimit-Reset: %v (%v)", err, re)
	}

	f.force = func(w http.ResponseWriter) bool {
		writeJSON(w, 503, map[string]any{"message": "unavailable"})
		return true
	}
	_, err = d.Write(ctx, b)
	if !errors.As(err, &re) {
		t.Errorf("503: %v, want retryable", err)
	}

	f.force = func(w http.ResponseWriter) bool {
		writeJSON(w, 400, map[string]any{"message": "Bad request body"})
		return true
	}
	res, err := d.Write(ctx, b)
	if err != nil || res.Rows[0].Outcome != destination.Rejected || res.Rows[1].Outcome != destination.Rejected || !strings.Contains(res.Rows[0].Reason, "Bad request body") {
		t.Errorf("400: %v %+v", err, res)
	}
	f.force = nil

	bad := newDest(t, srv.URL, map[string]any{"api_key": "wrong"})
	_, err = bad.Write(ctx, b)
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "check api_key") {
		t.Errorf("401: %v, want a final error", err)
	}
}

func TestRemoveNullsFields(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	fields := map[string]any{"plan": "pro", "score": 3}
	if _, err := d.Write(ctx, destination.Batch{ID: "1", Mode: "mirror", Rows: []destination.Row{row(destination.Add, "u1", fields)}}); err != nil {
		t.Fatal(err)
	}
	f.users["u1"]["other"] = "kept"
	res, err := d.Write(ctx, destination.Batch{ID: "2", Mode: "mirror", Rows: []destination.Row{row(destination.Remove, "u1", fields)}})
	if err != nil || res.Rows[0].Outcome != destination.OK {
		t.Fatal(err, res)
	}
	if u := f.users["u1"]; len(u) != 1 || u["other"] != "kept" {
		t.Errorf("after the remove: %v, want only the unmapped attribute left", u)
	}
	// In upsert mode a remove is a withdrawn consent (the only remove cdp sends there): the
	// fields sent for the purpose are unset too.
	if _, err := d.Write(ctx, destination.Batch{ID: "3", Mode: "upsert", Rows: []destination.Row{row(destination.Add, "u2", fields)}}); err != nil {
		t.Fatal(err)
	}
	res, err = d.Write(ctx, destination.Batch{ID: "4", Mode: "upsert", Rows: []destination.Row{row(destination.Remove, "u2", fields)}})
	if err != nil || res.Rows[0].Outcome != destination.OK {
		t.Fatal(err, res)
	}
	if u := f.users["u2"]; len(u) != 0 {
		t.Errorf("after a consent withdrawal in upsert mode: %v, want no attribute left", u)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"api_key": "k", "rest_endpoint": "https://rest.iad-01.braze.com"}, ""},
		{map[string]any{"rest_endpoint": "https://rest.iad-01.braze.com"}, `field "api_key": required`},
		{map[string]any{"api_key": "k"}, `field "rest_endpoint": required`},
		{map[string]any{"api_key": "Bearer k", "rest_endpoint": "https://x"}, "without \"Bearer \""},
		{map[string]any{"api_key": "k", "rest_endpoint": "rest.iad-01.braze.com"}, "must be an http:// or https:// URL"},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if s, ok := destination.Default.Spec("braze"); !ok || s.BatchSize != 75 {
		t.Errorf("registered spec %+v, %v", s, ok)
	}
}
