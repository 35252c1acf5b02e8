package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
)

const secret = "s3cret"

// receiver is a well-behaved webhook endpoint: it checks the method, content type, signature
// and idempotency key of every request, applies a batch once per Idempotency-Key (a repeated
// key gets the first answer again) and records the rows it applied.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	rows   []destination.Row
	seen   map[string][]byte
	reqs   []*http.Request
	bodies [][]byte
	// reply, when set, answers instead of the default 200 (return false to fall through).
	reply func(w http.ResponseWriter, p Payload) bool
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, seen: map[string][]byte{}}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.reqs = append(rc.reqs, r)
	rc.bodies = append(rc.bodies, body)
	fail := func(code int, format string, args ...any) {
		rc.t.Errorf("receiver: "+format, args...)
		http.Error(w, fmt.Sprintf(format, args...), code)
	}
	if r.Method != http.MethodPost {
		fail(405, "method %s", r.Method)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		fail(415, "Content-Type %q", ct)
		return
	}
	if err := Verify(secret, body, r.Header.Get(SignatureHeader)); err != nil {
		fail(401, "%v", err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		fail(400, "body: %v", err)
		return
	}
	key := r.Header.Get(IdempotencyHeader)
	if key == "" || key != p.BatchID {
		fail(400, "Idempotency-Key %q, batch_id %q", key, p.BatchID)
		return
	}
	if prev, ok := rc.seen[key]; ok {
		w.Write(prev)
		return
	}
	if rc.reply != nil && rc.reply(w, p) {
		return
	}
	for _, row := range p.Rows {
		rc.rows = append(rc.rows, destination.Row{Key: row.Key, Action: row.Action, Fields: row.Fields})
	}
	rc.seen[key] = []byte(`{"ok":true}`)
	w.Write(rc.seen[key])
}

func (rc *receiver) applied() []destination.Row {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]destination.Row(nil), rc.rows...)
}

func newDest(t *testing.T, srvURL string, extra map[string]any) *Dest {
	t.Helper()
	cfg := map[string]any{"url": srvURL, "secret": secret}
	for k, v := range extra {
		cfg[k] = v
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func batch(id string, keys ...string) destination.Batch {
	b := destination.Batch{Sync: "vip", ID: id, Mode: "mirror"}
	for i, k := range keys {
		b.Rows = append(b.Rows, destination.Row{Key: k, Action: destination.Add, Fields: map[string]any{"n": int64(i)}})
	}
	return b
}

func TestConformance(t *testing.T) {
	for _, size := range []int{0, 37} { // the default 500 and a small configured one
		if d := newDest(t, "http://x.example", nil); size == 0 && d.Spec().BatchSize != DefaultBatchSize {
			t.Fatalf("default batch size %d", d.Spec().BatchSize)
		}
		t.Run(fmt.Sprintf("batch_size_%d", size), func(t *testing.T) {
			rc, srv := newReceiver(t)
			extra := map[string]any{}
			if size > 0 {
				extra["batch_size"] = size
			}
			d := newDest(t, srv.URL+"/hook", extra)
			destinationtest.Run(t, d, destinationtest.Options{
				Readback: func(t *testing.T) []destination.Row { return rc.applied() },
			})
		})
	}
}

func TestRequest(t *testing.T) {
	rc, srv := newReceiver(t)
	d := newDest(t, srv.URL+"/hook?token=abc", map[string]any{"headers": map[string]any{"X-Team": "growth", "X-Version": 2}})
	b := batch("batch-1", "u1", "u2")
	b.Rows[1].Action = destination.Remove
	b.Rows[1].Fields = nil
	if _, err := d.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	r, body := rc.reqs[0], rc.bodies[0]
	if r.URL.Path != "/hook" || r.URL.Query().Get("token") != "abc" {
		t.Errorf("URL %s", r.URL)
	}
	for h, want := range map[string]string{
		"Content-Type":    "application/json",
		"Idempotency-Key": "batch-1",
		"X-Cdp-Signature": Sign(secret, body),
		"X-Team":          "growth",
		"X-Version":       "2",
		"User-Agent":      "cdp",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	want := `{"sync":"vip","batch_id":"batch-1","rows":[{"key":"u1","action":"add","fields":{"n":0}},{"key":"u2","action":"remove","fields":null}]}`
	if string(body) != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}
	// A signature is the hex HMAC-SHA256 of the body.
	if got := Sign("key", []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s", got)
	}
	if Verify(secret, append(body, ' '), r.Header.Get(SignatureHeader)) == nil {
		t.Error("Verify accepted a changed body")
	}
}

func TestBatchWithoutIDGetsOneFromItsRows(t *testing.T) {
	rc, srv := newReceiver(t)
	d := newDest(t, srv.URL, nil)
	for range 2 {
		if _, err := d.Write(context.Background(), batch("", "u1", "u2")); err != nil {
			t.Fatal(err)
		}
	}
	k1, k2 := rc.reqs[0].Header.Get(IdempotencyHeader), rc.reqs[1].Header.Get(IdempotencyHeader)
	if k1 == "" || k1 != k2 {
		t.Errorf("idempotency keys %q, %q: want the same non-empty key for the same rows", k1, k2)
	}
	if n := len(rc.applied()); n != 2 {
		t.Errorf("%d rows applied, want 2", n)
	}
}

func TestRejectedInBody(t *testing.T) {
	rc, srv := newReceiver(t)
	rc.reply = func(w http.ResponseWriter, p Payload) bool {
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"rejected":[{"key":"bad","reason":"email is not valid"},{"key":"nope"},{"key":"unknown-key"}]}`))
		return true
	}
	d := newDest(t, srv.URL, nil)
	res, err := d.Write(context.Background(), batch("b", "good", "bad", "nope"))
	if err != nil {
		t.Fatal(err)
	}
	want := []destination.RowResult{
		{Outcome: destination.OK},
		{Outcome: destination.Rejected, Reason: "email is not valid"},
		{Outcome: destination.Rejected, Reason: "rejected by the receiver (no reason given)"},
	}
	for i, r := range res.Rows {
		if r != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, r, want[i])
		}
	}
}

func TestStatuses(t *testing.T) {
	date := time.Date(2030, 1, 1, 0, 0, 30, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		retryable  bool
		retryAfter time.Duration
		reason     string // every row rejected with this reason
	}{
		{name: "429 seconds", status: 429, header: map[string]string{"Retry-After": "7"}, retryable: true, retryAfter: 7 * time.Second},
		{name: "429 date", status: 429, header: map[string]string{"Retry-After": date.Format(http.TimeFormat)}, retryable: true, retryAfter: 30 * time.Second},
		{name: "429 bare", status: 429, retryable: true},
		{name: "503", status: 503, header: map[string]string{"Retry-After": "2"}, retryable: true, retryAfter: 2 * time.Second},
		{name: "500", status: 500, body: "oops", retryable: true},
		{name: "502", status: 502, retryable: true},
		{name: "408", status: 408, retryable: true},
		{name: "400", status: 400, body: "{\"error\":\n  \"field n must be text\"}", reason: `HTTP 400: {"error": "field n must be text"}`},
		{name: "401", status: 401, reason: "HTTP 401"},
		{name: "422 long body", status: 422, body: strings.Repeat("é", 300), reason: "HTTP 422: " + strings.Repeat("é", 100) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			d := newDest(t, srv.URL, nil)
			d.now = func() time.Time { return date.Add(-30 * time.Second) }
			res, err := d.Write(context.Background(), batch("b", "u1", "u2"))
			var re *destination.RetryableError
			if tc.retryable {
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a RetryableError", err)
				}
				if re.RetryAfter != tc.retryAfter {
					t.Errorf("RetryAfter = %s, want %s", re.RetryAfter, tc.retryAfter)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
					t.Errorf("error %q does not say the status", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			for i, r := range res.Rows {
				if r.Outcome != destination.Rejected || r.Reason != tc.reason {
					t.Errorf("row %d: %v %q, want rejected %q", i, r.Outcome, r.Reason, tc.reason)
				}
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	rc, target := newReceiver(t)
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer srv.Close()
	d := newDest(t, srv.URL, nil)
	_, err := d.Write(context.Background(), batch("b", "u1"))
	var re *destination.RetryableError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "set url to the final address") {
		t.Errorf("err = %v", err)
	}
	if len(rc.applied()) != 0 {
		t.Error("the redirect was followed")
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := ParseConfig(map[string]any{"url": srv.URL, "secret": secret})
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 100 * time.Millisecond // below the 1s a config may set
	d := NewWithConfig(c, nil)
	start := time.Now()
	_, err = d.Write(context.Background(), batch("b", "u1"))
	var re *destination.RetryableError
	if !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a RetryableError wrapping a deadline", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}

	// Cancelling the run while a request is in flight stops it at once, not retryable.
	ctx, cancel := context.WithCancel(context.Background())
	d = newDest(t, srv.URL, nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start = time.Now()
	_, err = d.Write(ctx, batch("b", "u1"))
	if !errors.Is(err, context.Canceled) || errors.As(err, &re) {
		t.Errorf("err = %v, want context.Canceled and not retryable", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := newDest(t, "http://"+addr+"/hook?token=SECRET", nil)
	_, err = d.Write(context.Background(), batch("b", "u1"))
	var re *destination.RetryableError
	if !errors.As(err, &re) {
		t.Errorf("err = %v, want a RetryableError", err)
	}
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %q shows the URL's query", err)
	}
}

func TestUnencodableRowIsRejectedOthersSent(t *testing.T) {
	rc, srv := newReceiver(t)
	d := newDest(t, srv.URL, nil)
	b := batch("b", "u1", "u2")
	b.Rows[0].Fields["bad"] = math.Inf(1)
	res, err := d.Write(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0].Outcome != destination.Rejected || res.Rows[1].Outcome != destination.OK {
		t.Errorf("results %+v", res.Rows)
	}
	if got := rc.applied(); len(got) != 1 || got[0].Key != "u2" {
		t.Errorf("applied %+v", got)
	}
}

func TestRateLimit(t *testing.T) {
	_, srv := newReceiver(t)
	d := newDest(t, srv.URL, map[string]any{"rate_limit": 20})
	start := time.Now()
	for i := range 5 {
		if _, err := d.Write(context.Background(), batch(fmt.Sprint(i), "u")); err != nil {
			t.Fatal(err)
		}
	}
	// 5 requests at 20/s: the first at once, then 4 × 50ms.
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("5 requests at rate_limit 20 took %s, want >= 200ms", el)
	}
}

func TestConfig(t *testing.T) {
	ok := map[string]any{"url": "https://x.example/h", "secret": "s"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{ok, ""},
		{with("batch_size", "1000", "concurrency", 2.0, "rate_limit", "2.5", "timeout", "1m", "headers", map[string]any{"X-A": "b"}), ""},
		{with("url", nil), `field "url": required; set url: https://hooks.example.com/cdp`},
		{with("secret", nil), `field "secret": required; set secret: ${WEBHOOK_SECRET} in the sync's destination (a secret: reference an environment variable`},
		{with("secret", "${HOOK_SECRET}"), "environment variable HOOK_SECRET is not set"},
		{with("url", "ftp://x"), `field "url": must be an http:// or https:// URL`},
		{with("batch_size", 20000), `field "batch_size": must be a whole number from 1 to 10000, got 20000`},
		{with("batch_size", "lots"), `field "batch_size": must be a whole number from 1 to 10000, got "lots"`},
		{with("concurrency", 0), `field "concurrency": must be a whole number from 1 to 64`},
		{with("rate_limit", -1), `field "rate_limit": must be a number from 0 to 10000`},
		{with("timeout", "soon"), `field "timeout": must be a duration such as 30s or 2m`},
		{with("headers", "X-A: b"), `field "headers": must be a map`},
		{with("headers", map[string]any{"idempotency-key": "x"}), "Idempotency-Key is set by cdp; remove it from headers"},
		{with("headers", map[string]any{"X-Token": "${TOKEN}"}), "X-Token: environment variable TOKEN is not set"},
		{with("batchsize", 10), `did you mean "batch_size"?`},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v:\n error %v\n want one containing %q", tc.cfg, err, tc.want)
		}
	}
	// Several problems are reported together.
	_, err := New(map[string]any{"batch_size": 0})
	for _, want := range []string{`"url"`, `"secret"`, `"batch_size"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestSpecFollowsConfig(t *testing.T) {
	d := newDest(t, "https://x.example", map[string]any{"batch_size": 50, "concurrency": 2, "rate_limit": 5, "timeout": 10})
	s := d.Spec()
	if s.BatchSize != 50 || s.Concurrency != 2 || s.RateLimit != 5 || s.Timeout != 10*time.Second {
		t.Errorf("spec %+v", s)
	}
	def, ok := destination.Default.Spec("webhook")
	if !ok || def.BatchSize != MaxBatchSize || def.Concurrency != 4 {
		t.Errorf("registered spec %+v, %v", def, ok)
	}
	var secretField bool
	for _, f := range def.Fields {
		secretField = secretField || (f.Name == "secret" && f.Secret && f.Required)
	}
	if !secretField {
		t.Error("secret is not a required Secret field")
	}
	if _, err := destination.Default.New("webhook", map[string]any{"url": "https://x.example", "secret": "s"}); err != nil {
		t.Error(err)
	}
}
