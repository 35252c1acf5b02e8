// Package destinationtest is the conformance suite every destination passes:
//
//	destinationtest.Run(t, d, destinationtest.Options{Readback: ...})
//
// It checks the Spec, that a Write of adds, changes and removes returns one RowResult per row,
// that an empty batch and a batch of exactly Spec.BatchSize rows work, that a cancelled context
// returns promptly with an error the engine will not retry, that a batch written twice with the
// same ID is applied once, and that unicode text and nil values survive the trip. The last two
// and the content checks need Options.Readback: what arrived at the other end.
//
// Like the sync engine, the suite calls Start before its first Write when the destination is a
// destination.Starter, Close after its last when it is a destination.Closer, and resends a batch
// that failed with a destination.RetryableError (waiting its RetryAfter, at most 2s) and the
// rows that came back Retryable.
package destinationtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
)

// Options adapt the suite to a destination.
type Options struct {
	// Sync is the sync name the batches carry; "conformance" when empty.
	Sync string
	// Mode is the sync mode of the batches; the first of Spec.Modes when empty. Removes are
	// sent only in mirror and audience modes.
	Mode string
	// Readback returns every row the destination applied so far, in the order they were
	// applied: one Row per applied row for destinations that record changes (a file of
	// changes, a webhook receiver), or one Row per key for destinations that hold state (a
	// snapshot file, a CRM), where a removed key is absent. Nil when the destination cannot be
	// read back: the content and idempotency checks are then skipped.
	Readback func(t *testing.T) []destination.Row
	// Key makes the key of a generated row from a unique seed ("write-add-3"); by default the
	// seed itself.
	Key func(seed string) string
	// Fields makes the fields of a generated row; i varies between rows and between versions
	// of the same row. By default text, an integer, a float, a boolean and a time.
	Fields func(key string, i int) map[string]any
	// Equal compares a value sent with the value read back; by default they must have the same
	// JSON encoding (so int64(3) equals a JSON 3 and a time.Time equals its RFC 3339 text).
	// Destinations whose values are all text (CSV, HubSpot) compare
	// destination.FormatValue(sent) with got.
	Equal func(sent, got any) bool
	// CancelTimeout is how long a Write with a cancelled context may take; 5s when zero.
	CancelTimeout time.Duration
	// MaxRetries is how many times a batch is resent after a RetryableError; 20 when zero.
	MaxRetries int
}

func (o *Options) defaults(spec destination.Spec) {
	if o.Sync == "" {
		o.Sync = "conformance"
	}
	if o.Mode == "" && len(spec.Modes) > 0 {
		o.Mode = spec.Modes[0]
	}
	if o.Key == nil {
		o.Key = func(seed string) string { return seed }
	}
	if o.Fields == nil {
		o.Fields = DefaultFields
	}
	if o.Equal == nil {
		o.Equal = JSONEqual
	}
	if o.CancelTimeout == 0 {
		o.CancelTimeout = 5 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 20
	}
}

// DefaultFields are the fields of generated rows unless Options.Fields says otherwise.
func DefaultFields(key string, i int) map[string]any {
	return map[string]any{
		"email":   strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(key)) + "@example.com",
		"name":    fmt.Sprintf("Customer %d", i),
		"orders":  int64(i),
		"ltv":     float64(i) + 0.25,
		"vip":     i%2 == 0,
		"seen_at": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Hour),
	}
}

// JSONEqual reports whether sent and got have the same JSON encoding.
func JSONEqual(sent, got any) bool {
	a, err1 := json.Marshal(sent)
	b, err2 := json.Marshal(got)
	return err1 == nil && err2 == nil && string(a) == string(b)
}

// TextEqual reports whether got is the text form of sent (destination.FormatValue); nil and
// "" are the same.
func TextEqual(sent, got any) bool {
	return destination.FormatValue(sent) == destination.FormatValue(got)
}

// ValidModes are the sync modes a Spec may list.
var ValidModes = []string{"mirror", "upsert", "insert", "audience"}

// Run runs the conformance suite against d.
func Run(t *testing.T, d destination.Destination, opts Options) {
	t.Helper()
	spec := d.Spec()
	opts.defaults(spec)
	s := &suite{d: d, spec: spec, opts: opts}

	t.Run("Spec", s.testSpec)
	if t.Failed() {
		return
	}
	if st, ok := d.(destination.Starter); ok {
		if err := st.Start(context.Background(), destination.RunInfo{Sync: opts.Sync, ID: "conformance-1", Started: time.Now()}); err != nil {
			t.Fatalf("Start: %v", err)
		}
	}
	t.Run("Write", s.testWrite)
	t.Run("EmptyBatch", s.testEmpty)
	t.Run("FullBatch", s.testFull)
	t.Run("CancelledContext", s.testCancelled)
	t.Run("SameBatchTwice", s.testTwice)
	t.Run("UnicodeAndNil", s.testUnicode)
	if c, ok := d.(destination.Closer); ok {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

type suite struct {
	d    destination.Destination
	spec destination.Spec
	opts Options
}

func (s *suite) removes() bool { return s.opts.Mode == "mirror" || s.opts.Mode == "audience" }

func (s *suite) testSpec(t *testing.T) {
	sp := s.spec
	if sp.Name == "" {
		t.Error("Spec.Name is empty")
	}
	if sp.BatchSize <= 0 {
		t.Errorf("Spec.BatchSize = %d, want > 0", sp.BatchSize)
	}
	if sp.Concurrency <= 0 {
		t.Errorf("Spec.Concurrency = %d, want > 0", sp.Concurrency)
	}
	if sp.RateLimit < 0 {
		t.Errorf("Spec.RateLimit = %g, want >= 0", sp.RateLimit)
	}
	if sp.Timeout < 0 {
		t.Errorf("Spec.Timeout = %s, want >= 0", sp.Timeout)
	}
	if len(sp.Modes) == 0 {
		t.Error("Spec.Modes is empty")
	}
	for _, m := range sp.Modes {
		if !slices.Contains(ValidModes, m) {
			t.Errorf("Spec.Modes has %q, not one of %v", m, ValidModes)
		}
	}
	if !slices.Contains(sp.Modes, s.opts.Mode) {
		t.Errorf("Options.Mode %q is not in Spec.Modes %v", s.opts.Mode, sp.Modes)
	}
	seen := map[string]bool{}
	for _, f := range sp.Fields {
		if f.Name == "" {
			t.Error("Spec.Fields has a field without a name")
		}
		if seen[f.Name] {
			t.Errorf("Spec.Fields has %q twice", f.Name)
		}
		seen[f.Name] = true
		if f.Doc == "" {
			t.Errorf("Spec.Fields[%q] has no Doc", f.Name)
		}
	}
}

func (s *suite) row(seed string, a destination.Action, i int) destination.Row {
	key := s.opts.Key(seed)
	return destination.Row{Key: key, Action: a, Fields: s.opts.Fields(key, i)}
}

func (s *suite) batch(id string, rows []destination.Row) destination.Batch {
	return destination.Batch{Sync: s.opts.Sync, ID: id, Mode: s.opts.Mode, Rows: rows}
}

// write sends b the way the engine would: resending on RetryableError and resending the rows
// that came back Retryable. It returns the final outcome of every row.
func (s *suite) write(t *testing.T, b destination.Batch) []destination.RowResult {
	t.Helper()
	final := make([]destination.RowResult, len(b.Rows))
	idx := make([]int, len(b.Rows)) // position in b.Rows of each row of cur
	for i := range idx {
		idx[i] = i
	}
	cur := b
	for attempt := 0; ; attempt++ {
		if attempt > s.opts.MaxRetries {
			t.Fatalf("batch %s: still not written after %d retries", b.ID, s.opts.MaxRetries)
		}
		res, err := s.d.Write(context.Background(), cur)
		var re *destination.RetryableError
		if errors.As(err, &re) {
			wait := min(max(re.RetryAfter, 10*time.Millisecond), 2*time.Second)
			t.Logf("batch %s: retryable (%v); again in %s", cur.ID, err, wait)
			time.Sleep(wait)
			continue
		}
		if err != nil {
			t.Fatalf("Write(batch %s of %d rows): %v", cur.ID, len(cur.Rows), err)
		}
		if len(res.Rows) != len(cur.Rows) {
			t.Fatalf("Write(batch %s of %d rows) returned %d RowResults, want one per row", cur.ID, len(cur.Rows), len(res.Rows))
		}
		var again []destination.Row
		var againIdx []int
		for i, r := range res.Rows {
			final[idx[i]] = r
			if r.Outcome == destination.Retryable {
				again = append(again, cur.Rows[i])
				againIdx = append(againIdx, idx[i])
			}
		}
		if len(again) == 0 {
			return final
		}
		cur = s.batch(fmt.Sprintf("%s/retry-%d", b.ID, attempt+1), again)
		idx = againIdx
		time.Sleep(10 * time.Millisecond)
	}
}

func requireOK(t *testing.T, b destination.Batch, res []destination.RowResult) {
	t.Helper()
	bad := 0
	for i, r := range res {
		if r.Outcome != destination.OK {
			bad++
			if bad <= 5 {
				t.Errorf("batch %s row %d (key %q): %s: %s", b.ID, i, b.Rows[i].Key, r.Outcome, r.Reason)
			}
		}
	}
	if bad > 5 {
		t.Errorf("batch %s: %d rows not OK", b.ID, bad)
	}
}

// arrived returns the rows read back whose keys are in keys, by key, in order.
func (s *suite) arrived(t *testing.T, keys []string) map[string][]destination.Row {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	out := map[string][]destination.Row{}
	for _, r := range s.opts.Readback(t) {
		if want[r.Key] {
			out[r.Key] = append(out[r.Key], r)
		}
	}
	return out
}

func (s *suite) sameFields(t *testing.T, what string, sent, got map[string]any) {
	t.Helper()
	for k, v := range sent {
		g, ok := got[k]
		if !ok && v != nil {
			t.Errorf("%s: field %q missing from what arrived (sent %#v)", what, k, v)
			continue
		}
		if !s.opts.Equal(v, g) {
			t.Errorf("%s: field %q: sent %#v, arrived %#v", what, k, v, g)
		}
	}
}

func (s *suite) testWrite(t *testing.T) {
	var adds, changes, removes []destination.Row
	for i := range 4 {
		adds = append(adds, s.row(fmt.Sprintf("write-%d", i), destination.Add, i))
	}
	b1 := s.batch("write-1", adds)
	requireOK(t, b1, s.write(t, b1))

	changes = append(changes, s.row("write-0", destination.Change, 100), s.row("write-1", destination.Change, 101))
	if s.removes() {
		removes = append(removes, adds[2], adds[3])
		for i := range removes {
			removes[i].Action = destination.Remove
		}
	}
	mixed := append([]destination.Row{s.row("write-new", destination.Add, 7)}, changes...)
	mixed = append(mixed, removes...)
	b2 := s.batch("write-2", mixed)
	requireOK(t, b2, s.write(t, b2))

	if s.opts.Readback == nil {
		return
	}
	var keys []string
	for _, r := range append(adds, mixed...) {
		keys = append(keys, r.Key)
	}
	got := s.arrived(t, keys)
	last := func(key string) (destination.Row, bool) {
		rs := got[key]
		if len(rs) == 0 {
			return destination.Row{}, false
		}
		return rs[len(rs)-1], true
	}
	for _, r := range append([]destination.Row{mixed[0]}, changes...) {
		a, ok := last(r.Key)
		if !ok {
			t.Errorf("key %q: nothing arrived", r.Key)
			continue
		}
		if a.Action == destination.Remove {
			t.Errorf("key %q: arrived as a remove, sent %s", r.Key, r.Action)
		}
		s.sameFields(t, "key "+r.Key, r.Fields, a.Fields)
	}
	for _, r := range removes {
		if a, ok := last(r.Key); ok && a.Action != destination.Remove {
			t.Errorf("key %q: removed, but it is still there (last arrived as %s)", r.Key, a.Action)
		}
	}
	if !s.removes() {
		for _, r := range adds[2:] {
			if _, ok := last(r.Key); !ok {
				t.Errorf("key %q: nothing arrived", r.Key)
			}
		}
	}
}

func (s *suite) testEmpty(t *testing.T) {
	b := s.batch("empty", nil)
	res, err := s.d.Write(context.Background(), b)
	var re *destination.RetryableError
	for n := 0; errors.As(err, &re) && n < s.opts.MaxRetries; n++ {
		time.Sleep(min(max(re.RetryAfter, 10*time.Millisecond), 2*time.Second))
		res, err = s.d.Write(context.Background(), b)
	}
	if err != nil {
		t.Fatalf("Write(empty batch): %v", err)
	}
	if len(res.Rows) != 0 {
		t.Errorf("Write(empty batch) returned %d RowResults", len(res.Rows))
	}
}

func (s *suite) testFull(t *testing.T) {
	n := s.spec.BatchSize
	rows := make([]destination.Row, n)
	keys := make([]string, n)
	for i := range rows {
		rows[i] = s.row(fmt.Sprintf("full-%d", i), destination.Add, i)
		keys[i] = rows[i].Key
	}
	b := s.batch("full", rows)
	requireOK(t, b, s.write(t, b))
	if s.opts.Readback == nil {
		return
	}
	got := s.arrived(t, keys)
	missing := 0
	for _, k := range keys {
		if len(got[k]) == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("batch of Spec.BatchSize = %d rows: %d of them did not arrive", n, missing)
	}
}

func (s *suite) testCancelled(t *testing.T) {
	rows := []destination.Row{s.row("cancelled-0", destination.Add, 0), s.row("cancelled-1", destination.Add, 1)}
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"Cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"DeadlinePassed", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				_, err := s.d.Write(ctx, s.batch("cancelled-"+tc.name, rows))
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Write with a done context returned no error")
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("Write with a done context: %v; want an error wrapping %v", err, tc.want)
				}
				var re *destination.RetryableError
				if tc.want == context.Canceled && errors.As(err, &re) {
					t.Errorf("Write with a cancelled context returned a RetryableError (%v); a cancelled run must not be retried", err)
				}
			case <-time.After(s.opts.CancelTimeout):
				t.Fatalf("Write with a done context still running after %s", time.Since(start))
			}
		})
	}
}

func (s *suite) testTwice(t *testing.T) {
	var rows []destination.Row
	var keys []string
	for i := range 3 {
		r := s.row(fmt.Sprintf("twice-%d", i), destination.Add, i)
		rows = append(rows, r)
		keys = append(keys, r.Key)
	}
	b := s.batch("twice", rows)
	requireOK(t, b, s.write(t, b))
	requireOK(t, b, s.write(t, b))
	if s.opts.Readback == nil {
		t.Skip("no Readback: cannot tell whether the batch was applied twice")
	}
	got := s.arrived(t, keys)
	for _, k := range keys {
		if n := len(got[k]); n != 1 {
			t.Errorf("key %q arrived %d times after the same batch (same ID) was written twice; want once", k, n)
		}
	}
}

// UnicodeFields are added to a row's fields by the UnicodeAndNil check.
var UnicodeFields = map[string]any{
	"text_unicode": "Zoë Ünïcödé — 名前 — Привет — مرحبا — 🎉👩‍👩‍👧",
	"text_quotes":  "she said \"hi\", then left; a,b\tc",
	"text_lines":   "line one\nline two\r\nline three",
	"text_empty":   "",
	"nil_value":    nil,
}

func (s *suite) testUnicode(t *testing.T) {
	r := s.row("unicode-ключ-🎉", destination.Add, 3)
	for k, v := range UnicodeFields {
		r.Fields[k] = v
	}
	r2 := s.row("unicode-nil", destination.Add, 4)
	for k := range r2.Fields {
		if k != "email" { // some destinations need an identifier in the fields
			r2.Fields[k] = nil
		}
	}
	b := s.batch("unicode", []destination.Row{r, r2})
	requireOK(t, b, s.write(t, b))
	if s.opts.Readback == nil {
		return
	}
	got := s.arrived(t, []string{r.Key, r2.Key})
	for _, sent := range []destination.Row{r, r2} {
		rs := got[sent.Key]
		if len(rs) == 0 {
			t.Errorf("key %q: nothing arrived", sent.Key)
			continue
		}
		a := rs[len(rs)-1]
		s.sameFields(t, "key "+sent.Key, sent.Fields, a.Fields)
	}
}
