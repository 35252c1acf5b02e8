package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
)

var ctx = context.Background()

func newDest(t *testing.T, base string, extra map[string]any) *Dest {
	t.Helper()
	cfg := map[string]any{"access_token": "tok-test", "audience_id": "2385", "base_url": base}
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

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// recording remembers the last row sent for each member key, so that the fake's membership
// (hashes only) can be read back as rows.
type recording struct {
	*Dest
	mu   sync.Mutex
	sent map[string]destination.Row
}

func (r *recording) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	r.mu.Lock()
	for _, row := range b.Rows {
		if e, p, reason := r.MatchKeys(row); reason == "" {
			r.sent[memberKey(e, p)] = row
		}
	}
	r.mu.Unlock()
	return r.Dest.Write(ctx, b)
}

func TestConformance(t *testing.T) {
	f, srv := newFake(t)
	f.p429 = 0.1
	rec := &recording{Dest: newDest(t, srv.URL, nil), sent: map[string]destination.Row{}}
	destinationtest.Run(t, rec, destinationtest.Options{
		Key: func(seed string) string { return "k-" + sha(seed)[:16] },
		Fields: func(key string, i int) map[string]any {
			m := destinationtest.DefaultFields(key, i)
			m["email"] = key + "@example.com"
			m["phone"] = fmt.Sprintf("+1 415 555 %04d", i%10000)
			return m
		},
		Readback: func(t *testing.T) []destination.Row {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			var out []destination.Row
			for _, k := range f.memberKeys() {
				row, ok := rec.sent[k]
				if !ok {
					t.Errorf("fake has member %s that was never sent", k)
					continue
				}
				row.Action = destination.Add
				out = append(out, row)
			}
			return out
		},
	})
	t.Logf("calls %v, random 429s %d", f.calls, f.random429)
	if f.random429 == 0 {
		t.Error("the fake answered no random 429: the retry path was not exercised")
	}
}

func TestHashing(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	upper := strings.ToUpper(sha("already@hashed.com"))
	rows := []destination.Row{
		{Key: "a", Action: destination.Add, Fields: map[string]any{"email": "  John.Doe+Ads@Example.COM \n", "phone": "(415) 555-0134"}},
		{Key: "b", Action: destination.Add, Fields: map[string]any{"email": "ZOË@Example.DE"}},
		{Key: "c", Action: destination.Add, Fields: map[string]any{"phone": "+44 (0) 7700 900123"}},
		{Key: "d", Action: destination.Change, Fields: map[string]any{"email": upper, "phone": nil}},
		{Key: "e", Action: destination.Add, Fields: map[string]any{"email": "not an email", "phone": "001 415 555 0199"}},
		{Key: "f", Action: destination.Add, Fields: map[string]any{"email": "", "phone": nil}},
		{Key: "g", Action: destination.Add, Fields: map[string]any{"email": "nope", "name": "x"}},
		{Key: "h", Action: destination.Add, Fields: map[string]any{"phone": int64(14155550100)}},
	}
	res, err := d.Write(ctx, destination.Batch{ID: "h", Mode: "audience", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{sha("john.doe+ads@example.com"), sha("14155550134")},
		{sha("zoë@example.de"), ""},
		{"", sha("447700900123")},
		{strings.ToLower(upper), ""},
		{"", sha("14155550199")},
		{"", sha("14155550100")},
	}
	got := f.lastData()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("data sent:\n%v\nwant\n%v", got, want)
	}
	for i, r := range res.Rows {
		switch rows[i].Key {
		case "f", "g":
			if r.Outcome != destination.Rejected || !strings.Contains(r.Reason, "no email or phone to match on") {
				t.Errorf("row %s: %v %q, want rejected: no email or phone to match on", rows[i].Key, r.Outcome, r.Reason)
			}
			if strings.Contains(r.Reason, "nope") {
				t.Errorf("row %s: the reason %q holds the value", rows[i].Key, r.Reason)
			}
		default:
			if r.Outcome != destination.OK {
				t.Errorf("row %s: %v %q, want OK", rows[i].Key, r.Outcome, r.Reason)
			}
		}
	}

	// Removes send the same digests with DELETE.
	res, err = d.Write(ctx, destination.Batch{ID: "r", Mode: "audience", Rows: []destination.Row{
		{Key: "a", Action: destination.Remove, Fields: map[string]any{"email": "JOHN.DOE+ADS@EXAMPLE.COM", "phone": "+1-415-555-0134"}},
	}})
	if err != nil || res.Rows[0].Outcome != destination.OK {
		t.Fatalf("remove: %v %+v", err, res)
	}
	if f.calls[http.MethodDelete] != 1 {
		t.Errorf("DELETE calls = %d, want 1", f.calls[http.MethodDelete])
	}
	for _, k := range f.memberKeys() {
		if k == sha("john.doe+ads@example.com") {
			t.Error("removed member still in the audience")
		}
	}
}

func rowsN(n int, a destination.Action) []destination.Row {
	rows := make([]destination.Row, n)
	for i := range rows {
		rows[i] = destination.Row{Key: fmt.Sprint(i), Action: a, Fields: map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}}
	}
	return rows
}

func TestLimit(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	if Spec.BatchSize != 10000 {
		t.Errorf("BatchSize = %d", Spec.BatchSize)
	}
	res, err := d.Write(ctx, destination.Batch{ID: "full", Mode: "audience", Rows: rowsN(10000, destination.Add)})
	if err != nil || len(res.Rows) != 10000 {
		t.Fatalf("10,000 rows: %v, %d results", err, len(res.Rows))
	}
	if f.calls[http.MethodPost] != 1 || len(f.memberKeys()) != 10000 {
		t.Errorf("10,000 rows: %d calls, %d members; want 1 call, 10000 members", f.calls[http.MethodPost], len(f.memberKeys()))
	}
	if _, err := d.Write(ctx, destination.Batch{ID: "over", Mode: "audience", Rows: rowsN(10001, destination.Add)}); err == nil {
		t.Error("Write of 10,001 rows: no error")
	}
	if f.calls[http.MethodPost] != 1 {
		t.Error("Write of 10,001 rows made a call")
	}
	// The fake itself refuses more than 10,000 rows in a call, as Meta does.
	data := make([][]string, 10001)
	for i := range data {
		data[i] = []string{sha(fmt.Sprint(i)), ""}
	}
	var re *requestError
	if err := d.send(ctx, http.MethodPost, data); !errors.As(err, &re) || re.status != 400 {
		t.Errorf("10,001 rows in one call: %v, want a 400", err)
	}
}

func TestRateLimit(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	b := destination.Batch{ID: "rl", Mode: "audience", Rows: rowsN(3, destination.Add)}
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter) bool
		wait   time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "7")
			graphErr(w, http.StatusTooManyRequests, 80003, "OAuthException", "too many calls")
			return true
		}, 7 * time.Second},
		{"429 without Retry-After", func(w http.ResponseWriter) bool {
			graphErr(w, http.StatusTooManyRequests, 80003, "OAuthException", "too many calls")
			return true
		}, 60 * time.Second},
		{"code 17 at HTTP 400", func(w http.ResponseWriter) bool {
			graphErr(w, http.StatusBadRequest, 17, "OAuthException", "(#17) User request limit reached")
			return true
		}, 60 * time.Second},
		{"code 613", func(w http.ResponseWriter) bool {
			graphErr(w, http.StatusBadRequest, 613, "OAuthException", "(#613) Calls to this api have exceeded the rate limit.")
			return true
		}, 60 * time.Second},
		{"503", func(w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.setNext(tc.answer)
			_, err := d.Write(ctx, b)
			var re *destination.RetryableError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RetryableError", err)
			}
			if re.RetryAfter != tc.wait {
				t.Errorf("RetryAfter = %s, want %s", re.RetryAfter, tc.wait)
			}
			// Resent, it goes through.
			res, err := d.Write(ctx, b)
			if err != nil || res.Rows[0].Outcome != destination.OK {
				t.Errorf("resend: %v %+v", err, res)
			}
		})
	}
}

func TestInvalidToken(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, map[string]any{"access_token": "expired"})
	_, err := d.Write(ctx, destination.Batch{ID: "t", Mode: "audience", Rows: rowsN(2, destination.Add)})
	var re *destination.RetryableError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "access_token") {
		t.Errorf("wrong token: %v, want a plain error about access_token", err)
	}
	if strings.Contains(err.Error(), "expired") {
		t.Errorf("the error %q holds the token", err)
	}
	// Code 190 at HTTP 400 is the same.
	d = newDest(t, srv.URL, nil)
	f.setNext(func(w http.ResponseWriter) bool {
		graphErr(w, http.StatusBadRequest, 190, "OAuthException", "Error validating access token: Session has expired")
		return true
	})
	_, err = d.Write(ctx, destination.Batch{ID: "t", Mode: "audience", Rows: rowsN(2, destination.Add)})
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "Session has expired") {
		t.Errorf("code 190: %v, want a plain error with Meta's message", err)
	}
}

func TestBadRequestRejects(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	f.setNext(func(w http.ResponseWriter) bool {
		graphErr(w, http.StatusBadRequest, 2650, "OAuthException", "(#2650) Failed to update the custom audience")
		return true
	})
	rows := append(rowsN(2, destination.Add), destination.Row{Key: "x", Action: destination.Remove, Fields: map[string]any{"email": "x@example.com"}})
	res, err := d.Write(ctx, destination.Batch{ID: "bad", Mode: "audience", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if r := res.Rows[i]; r.Outcome != destination.Rejected || !strings.Contains(r.Reason, "Failed to update the custom audience") {
			t.Errorf("add row %d: %v %q", i, r.Outcome, r.Reason)
		}
	}
	if res.Rows[2].Outcome != destination.OK {
		t.Errorf("remove row (its own call): %v %q", res.Rows[2].Outcome, res.Rows[2].Reason)
	}
}

func TestInvalidEntriesStillOK(t *testing.T) {
	f, srv := newFake(t)
	d := newDest(t, srv.URL, nil)
	f.setNext(func(w http.ResponseWriter) bool {
		writeJSON(w, 200, map[string]any{"audience_id": "2385", "num_received": 2, "num_invalid_entries": 1, "invalid_entry_samples": map[string]any{}})
		return true
	})
	res, err := d.Write(ctx, destination.Batch{ID: "inv", Mode: "audience", Rows: rowsN(2, destination.Add)})
	if err != nil || res.Rows[0].Outcome != destination.OK || res.Rows[1].Outcome != destination.OK {
		t.Errorf("%v %+v", err, res)
	}
}

func TestConfig(t *testing.T) {
	if _, ok := destination.Default.Spec("meta"); !ok {
		t.Error("meta is not registered in destination.Default")
	}
	_, err := New(map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "audience_id") || !strings.Contains(err.Error(), "access_token") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := New(map[string]any{"audience_id": "12", "access_token": "x", "api_version": "21"}); err == nil {
		t.Error("api_version 21: no error")
	}
	c, err := ParseConfig(map[string]any{"audience_id": "12", "access_token": "x"})
	if err != nil || c.APIVersion != "v21.0" || c.BaseURL.String() != DefaultBaseURL {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
