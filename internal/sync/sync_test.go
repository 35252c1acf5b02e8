package sync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/webhook"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/syncdef"
)

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode syncdef.Mode
		// second run: c0002 changed, c0003 left the model, c0006 joined, c0004 changed an
		// unmapped column.
		want     map[destination.Action]int
		wantKeys []string
	}{
		{syncdef.Mirror, map[destination.Action]int{destination.Add: 1, destination.Change: 1, destination.Remove: 1}, []string{"c0001", "c0002", "c0004", "c0005", "c0006"}},
		{syncdef.Audience, map[destination.Action]int{destination.Add: 1, destination.Change: 1, destination.Remove: 1}, []string{"c0001", "c0002", "c0004", "c0005", "c0006"}},
		{syncdef.Upsert, map[destination.Action]int{destination.Add: 1, destination.Change: 1}, []string{"c0001", "c0002", "c0003", "c0004", "c0005", "c0006"}},
		{syncdef.Insert, map[destination.Action]int{destination.Add: 1}, []string{"c0001", "c0002", "c0003", "c0004", "c0005", "c0006"}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			w := openWH(t)
			customers(t, w, 5)
			d := def("s_"+string(tc.mode), tc.mode)
			dest := newFake(destination.Spec{})
			res := runSync(t, w, d, dest, Options{})
			if res.Status != StatusOK || res.Added != 5 || dest.actions[destination.Add] != 5 {
				t.Fatalf("first run: %+v, sent %v", res.SyncRun, dest.actions)
			}
			if got := dest.rows["c0001"]; !cmp.Equal(got, map[string]any{"email": "user1@example.com", "source": "cdp", "spend": 1.0}) {
				t.Errorf("fields of c0001: %v", got)
			}
			if !dest.closed || len(dest.started) != 1 || dest.started[0].Sync != d.Name || dest.started[0].ID != res.RunID {
				t.Errorf("destination not started and closed: %+v", dest.started)
			}
			if p := plan(t, w, d); p.HasChanges() {
				t.Fatalf("plan after a clean run has changes: %+v", p.Changes)
			}

			exec(t, w, `UPDATE main.audience SET total_spend = 20 WHERE profile_id = 'c0002'`)
			exec(t, w, `UPDATE main.audience SET plan_id = 99 WHERE profile_id = 'c0004'`)
			exec(t, w, `DELETE FROM main.audience WHERE profile_id = 'c0003'`)
			exec(t, w, `INSERT INTO main.audience VALUES ('c0006', 'six@example.com', 6, 0, TRUE)`)
			clear(dest.actions)
			res = runSync(t, w, d, dest, Options{})
			if diff := cmp.Diff(tc.want, dest.actions); diff != "" {
				t.Errorf("second run sent (-want +got):\n%s", diff)
			}
			if res.Added != int64(tc.want[destination.Add]) || res.Changed != int64(tc.want[destination.Change]) || res.Removed != int64(tc.want[destination.Remove]) {
				t.Errorf("second run counts %+v", res.SyncRun)
			}
			if diff := cmp.Diff(tc.wantKeys, dest.keys()); diff != "" {
				t.Errorf("destination holds (-want +got):\n%s", diff)
			}
			for _, b := range dest.batches {
				if b.Mode != string(tc.mode) || b.Sync != d.Name || len(b.ID) != 32 {
					t.Errorf("batch %+v", b)
				}
			}
			if p := plan(t, w, d); p.HasChanges() {
				t.Errorf("plan after the second run has changes: %+v", p.Changes)
			}
			// A run without changes still starts and closes the destination, and sends nothing.
			calls := dest.calls
			runSync(t, w, d, dest, Options{})
			if len(dest.started) != 3 || !dest.closed || dest.calls != calls {
				t.Errorf("run without changes: %d starts, closed %v, %d writes", len(dest.started), dest.closed, dest.calls-calls)
			}
			runs, err := state.SyncRunHistory(context.Background(), w, d.Name, 0)
			if err != nil || len(runs) != 3 || runs[0].Status != "ok" {
				t.Errorf("history %+v %v", runs, err)
			}
		})
	}
}

func TestRemoveCarriesLastAcknowledgedFields(t *testing.T) {
	w := openWH(t)
	customers(t, w, 2)
	d := def("rm", syncdef.Mirror)
	dest := newFake(destination.Spec{})
	runSync(t, w, d, dest, Options{})
	exec(t, w, `DELETE FROM main.audience WHERE profile_id = 'c0002'`)
	runSync(t, w, d, dest, Options{})
	last := dest.batches[len(dest.batches)-1]
	want := []destination.Row{{Key: "c0002", Action: destination.Remove, Fields: map[string]any{"email": "user2@example.com", "source": "cdp", "spend": 2.0}}}
	if diff := cmp.Diff(want, last.Rows); diff != "" {
		t.Errorf("remove (-want +got):\n%s", diff)
	}
}

func TestConsent(t *testing.T) {
	for _, mode := range []syncdef.Mode{syncdef.Mirror, syncdef.Upsert} {
		t.Run(string(mode), func(t *testing.T) {
			w := openWH(t)
			customers(t, w, 4)
			exec(t, w, `UPDATE main.audience SET consent_marketing = NULL WHERE profile_id = 'c0004'`)
			d := def("consent_"+string(mode), mode)
			d.Consent = "marketing"
			dest := newFake(destination.Spec{})
			res := runSync(t, w, d, dest, Options{})
			if res.Added != 3 || slices.Contains(dest.keys(), "c0004") {
				t.Fatalf("a profile without consent was sent: %v", dest.keys())
			}
			if res.Plan.NoConsent != 1 {
				t.Errorf("no consent %d", res.Plan.NoConsent)
			}
			// c0002 withdraws; c0004 agrees.
			exec(t, w, `UPDATE main.audience SET consent_marketing = (profile_id <> 'c0002')`)
			p := plan(t, w, d)
			if p.Changes != (Counts{Add: 1, Remove: 1}) {
				t.Fatalf("plan %+v", p.Changes)
			}
			var reasons []string
			for _, s := range p.Samples {
				if s.Action == destination.Remove {
					reasons = append(reasons, s.Key+" "+s.Reason)
				}
			}
			if diff := cmp.Diff([]string{"c0002 consent withdrawn"}, reasons); diff != "" {
				t.Errorf("remove reasons (-want +got):\n%s", diff)
			}
			runSync(t, w, d, dest, Options{})
			if diff := cmp.Diff([]string{"c0001", "c0003", "c0004"}, dest.keys()); diff != "" {
				t.Errorf("destination holds (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConsentColumnMissing(t *testing.T) {
	w := openWH(t)
	customers(t, w, 2)
	d := def("c", syncdef.Mirror)
	d.Consent = "sms"
	d.Mapping[0].Column = "emial"
	_, err := NewPlan(context.Background(), w, d, audience, PlanOptions{})
	if err == nil || !strings.Contains(err.Error(), `sync "c": consent sms needs a boolean column consent_sms in model main.audience`) ||
		!strings.Contains(err.Error(), `sync "c": mapping.email: model main.audience has no column "emial"; did you mean "email"?`) {
		t.Errorf("err %v", err)
	}
	_, err = NewPlan(context.Background(), w, d, warehouseRel("main", "nope"), PlanOptions{})
	if err == nil || err.Error() != `sync "c": model main.nope not found in the warehouse; build it first (cdp build -s nope)` {
		t.Errorf("missing model: %v", err)
	}
}

func TestInvalidRowsNeverSent(t *testing.T) {
	w := openWH(t)
	customers(t, w, 3)
	d := def("inv", syncdef.Mirror)
	dest := newFake(destination.Spec{})
	runSync(t, w, d, dest, Options{})
	// c0002 gets a twin: both are invalid, and c0002 is held (not removed) until fixed.
	exec(t, w, `INSERT INTO main.audience VALUES ('c0002', 'twin@example.com', 2, 0, TRUE), (NULL, 'nobody@example.com', 0, 0, TRUE), ('c0009', 'n@example.com', 9, 0, TRUE)`)
	res := runSync(t, w, d, dest, Options{})
	p := res.Plan
	want := Invalid{NullKeys: 1, DuplicateRows: 2, DuplicateKeys: 1, Samples: []DuplicateKey{{Key: "c0002", Rows: 2}}}
	if diff := cmp.Diff(want, p.Invalid); diff != "" {
		t.Errorf("invalid (-want +got):\n%s", diff)
	}
	if p.Changes != (Counts{Add: 1}) || res.Added != 1 {
		t.Errorf("changes %+v", p.Changes)
	}
	if diff := cmp.Diff([]string{"c0001", "c0002", "c0003", "c0009"}, dest.keys()); diff != "" {
		t.Errorf("destination holds (-want +got):\n%s", diff)
	}
}

func TestGuards(t *testing.T) {
	w := openWH(t)
	customers(t, w, 10)
	d := def("guarded", syncdef.Mirror)
	share := 0.2
	d.Guards.MaxRemoveShare = &share
	dest := newFake(destination.Spec{})
	runSync(t, w, d, dest, Options{}) // a first run's adds are not limited by an empty snapshot

	exec(t, w, `DELETE FROM main.audience WHERE profile_id <= 'c0003'`)
	res, err := Run(context.Background(), w, d, audience, dest, Options{Clock: newClock()})
	var refused *RefusedError
	if !errors.As(err, &refused) || res.Status != StatusRefused {
		t.Fatalf("not refused: %v %+v", err, res.SyncRun)
	}
	want := `sync "guarded": refused to apply the plan: max_remove_share: 3 remove(s) are 30% of the 10-row snapshot, more than max_remove_share 20%`
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if len(dest.keys()) != 10 || len(dest.started) != 1 {
		t.Errorf("a refused plan sent rows or started the destination")
	}
	runs, _ := state.SyncRunHistory(context.Background(), w, d.Name, 1)
	if len(runs) != 1 || runs[0].Status != "refused" || runs[0].Error != want {
		t.Errorf("refusal not recorded: %+v", runs)
	}

	res = runSync(t, w, d, dest, Options{Force: true})
	if res.Status != StatusOK || res.Removed != 3 || len(dest.keys()) != 7 {
		t.Errorf("--force: %+v", res.SyncRun)
	}

	// An empty model would remove everything.
	exec(t, w, `DELETE FROM main.audience`)
	_, err = Run(context.Background(), w, d, audience, dest, Options{Clock: newClock()})
	if !errors.As(err, &refused) || refused.Violations[0].Guard != "allow_empty" {
		t.Errorf("empty model: %v", err)
	}
	d.Guards.AllowEmpty = true
	d.Guards.MaxRemoveShare = nil
	if res := runSync(t, w, d, dest, Options{}); res.Removed != 7 || len(dest.keys()) != 0 {
		t.Errorf("allow_empty: %+v", res.SyncRun)
	}

	// Too many adds.
	customers(t, w, 4)
	runSync(t, w, d, dest, Options{})
	customers(t, w, 20)
	addShare := 2.0
	d.Guards.MaxAddShare = &addShare
	_, err = Run(context.Background(), w, d, audience, dest, Options{Clock: newClock()})
	if !errors.As(err, &refused) || refused.Violations[0].Guard != "max_add_share" ||
		!strings.Contains(err.Error(), "16 add(s) are 400% of the 4-row snapshot, more than max_add_share 200%") {
		t.Errorf("adds: %v", err)
	}
}

func TestSplitIsolatesOneBadRow(t *testing.T) {
	for _, how := range []string{"error", "all rejected"} {
		t.Run(how, func(t *testing.T) {
			w := openWH(t)
			customers(t, w, 1000)
			d := def("split", syncdef.Mirror)
			dest := newFake(destination.Spec{BatchSize: 1000})
			dest.respond = func(_ int, b destination.Batch) (destination.Result, error) {
				res := destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}
				for _, r := range b.Rows {
					if r.Key == "c0777" {
						if how == "error" {
							return res, errors.New("400 bad request: invalid email")
						}
						for i := range res.Rows {
							res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: "400 bad request: invalid email"}
						}
						return res, nil
					}
				}
				return res, nil
			}
			res := runSync(t, w, d, dest, Options{})
			if res.Status != StatusPartial || res.Added != 999 || res.Rejected != 1 {
				t.Fatalf("result %+v", res.SyncRun)
			}
			if len(dest.keys()) != 999 || slices.Contains(dest.keys(), "c0777") {
				t.Errorf("destination holds %d rows", len(dest.keys()))
			}
			// Halving 1000 rows down to one takes 10 levels: 1 + 2 writes per level.
			if dest.calls > 21 {
				t.Errorf("%d writes to isolate one row", dest.calls)
			}
			rej := queryStrings(t, w, `SELECT sync, key, action, reason, attempts FROM _cdp.sync_rejections`)
			if diff := cmp.Diff([]string{"split|c0777|add|400 bad request: invalid email|1"}, rej); diff != "" {
				t.Errorf("rejections (-want +got):\n%s", diff)
			}
			if len(res.Rejections) != 1 || res.Rejections[0].Key != "c0777" {
				t.Errorf("result rejections %+v", res.Rejections)
			}
		})
	}
}

func TestSystematicFailureStops(t *testing.T) {
	w := openWH(t)
	customers(t, w, 500)
	d := def("down", syncdef.Mirror)
	dest := newFake(destination.Spec{BatchSize: 100})
	dest.respond = func(int, destination.Batch) (destination.Result, error) {
		return destination.Result{}, errors.New("401 unauthorized")
	}
	res, err := Run(context.Background(), w, d, audience, dest, Options{Clock: newClock()})
	if err == nil || !strings.HasPrefix(err.Error(), `sync "down": destination "fake": batch 1: 10 rows in a row failed on their own (last: 401 unauthorized)`) {
		t.Fatalf("err %v", err)
	}
	if res.Status != StatusFailed || dest.calls > 40 {
		t.Errorf("status %s after %d writes", res.Status, dest.calls)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	w := openWH(t)
	customers(t, w, 10)
	d := def("retry", syncdef.Mirror)
	dest := newFake(destination.Spec{})
	dest.respond = func(call int, b destination.Batch) (destination.Result, error) {
		if call <= 2 {
			return destination.Result{}, &destination.RetryableError{Err: errors.New("429 too many requests"), RetryAfter: 7 * time.Second}
		}
		return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
	}
	clock := newClock()
	res := runSync(t, w, d, dest, Options{Clock: clock})
	if res.Status != StatusOK || res.Added != 10 || res.Retried != 2 {
		t.Fatalf("result %+v", res.SyncRun)
	}
	waits := clock.waits()
	if len(waits) != 2 {
		t.Fatalf("waits %v", waits)
	}
	for _, wt := range waits {
		if wt < 7*time.Second || wt > 7700*time.Millisecond {
			t.Errorf("waited %s for Retry-After 7s", wt)
		}
	}
	// The same batch was resent: same rows, same ID.
	if len(dest.batches) != 3 || dest.batches[0].ID != dest.batches[2].ID {
		t.Errorf("resent batches differ")
	}
}

func TestRetriesRunOut(t *testing.T) {
	w := openWH(t)
	customers(t, w, 30)
	d := def("vip_to_webhook", syncdef.Mirror)
	dest := newFake(destination.Spec{Name: "webhook", BatchSize: 10})
	dest.respond = func(call int, b destination.Batch) (destination.Result, error) {
		if b.Rows[0].Key == "c0011" { // the second batch
			return destination.Result{}, &destination.RetryableError{Err: errors.New("429 too many requests")}
		}
		return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
	}
	d.Destination.Type = "webhook"
	clock := newClock()
	res, err := Run(context.Background(), w, d, audience, dest, Options{Clock: clock, Jitter: func() float64 { return 0.5 }})
	want := `sync "vip_to_webhook": destination "webhook": batch 2: 429 too many requests after 5 retries`
	if err == nil || err.Error() != want {
		t.Fatalf("err\n got %v\nwant %s", err, want)
	}
	if res.Status != StatusFailed || res.Error != want {
		t.Errorf("result %+v", res.SyncRun)
	}
	// Exponential backoff from 500ms with jitter in the upper half (0.5 here: 3/4 of each step).
	wantWaits := []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second}
	if diff := cmp.Diff(wantWaits, clock.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	// Batch 1 was committed; batch 2 was not; batch 3 may or may not have been sent.
	snap := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_snapshot_vip_to_webhook WHERE key <= 'c0010'`)
	if snap[0] != "10" {
		t.Errorf("batch 1 not committed: %v", snap)
	}
	if n := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_snapshot_vip_to_webhook WHERE key BETWEEN 'c0011' AND 'c0020'`); n[0] != "0" {
		t.Errorf("batch 2 committed: %v", n)
	}
	runs, _ := state.SyncRunHistory(context.Background(), w, d.Name, 0)
	if len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error != want {
		t.Errorf("history %+v", runs)
	}
	// The next run sends only what is missing.
	dest.respond = nil
	before := len(dest.arrived)
	res = runSync(t, w, d, dest, Options{})
	if res.Added != int64(30-before) || len(dest.keys()) != 30 {
		t.Errorf("rerun added %d (had %d)", res.Added, before)
	}
}

func TestRetryableRows(t *testing.T) {
	w := openWH(t)
	customers(t, w, 6)
	d := def("rows", syncdef.Mirror)
	dest := newFake(destination.Spec{})
	tries := map[string]int{}
	dest.respond = func(call int, b destination.Batch) (destination.Result, error) {
		res := destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}
		for i, r := range b.Rows {
			tries[r.Key]++
			if (r.Key == "c0002" && tries[r.Key] < 3) || r.Key == "c0005" {
				res.Rows[i] = destination.RowResult{Outcome: destination.Retryable, Reason: "locked"}
			}
		}
		return res, nil
	}
	res := runSync(t, w, d, dest, Options{})
	if res.Status != StatusPartial || res.Added != 5 || res.Failed != 1 || res.Rejected != 0 {
		t.Fatalf("result %+v failed %d", res.SyncRun, res.Failed)
	}
	if tries["c0002"] != 3 || tries["c0005"] != 6 || tries["c0001"] != 1 {
		t.Errorf("tries %v", tries)
	}
	if p := plan(t, w, d); p.Changes != (Counts{Add: 1}) {
		t.Errorf("c0005 not planned again: %+v", p.Changes)
	}
}

func TestRejectedRowsRetriedNextRun(t *testing.T) {
	w := openWH(t)
	customers(t, w, 5)
	d := def("rej", syncdef.Mirror)
	dest := newFake(destination.Spec{})
	dest.respond = rejectKeys("invalid email", "c0003")
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	res := runSync(t, w, d, dest, Options{Clock: clock})
	if res.Status != StatusPartial || res.Rejected != 1 || res.Added != 4 {
		t.Fatalf("first run %+v", res.SyncRun)
	}
	// Still rejected on the second run: attempts count up, first_seen stays.
	clock.now = clock.now.Add(time.Hour)
	res = runSync(t, w, d, dest, Options{Clock: clock})
	if res.Plan.Changes != (Counts{Add: 1}) || res.Rejected != 1 {
		t.Fatalf("second run %+v %+v", res.Plan.Changes, res.SyncRun)
	}
	rej := queryStrings(t, w, `SELECT key, action, reason, attempts, strftime(first_seen, '%H:%M'), strftime(last_seen, '%H:%M') FROM _cdp.sync_rejections`)
	if diff := cmp.Diff([]string{"c0003|add|invalid email|2|12:00|13:00"}, rej); diff != "" {
		t.Errorf("rejections (-want +got):\n%s", diff)
	}
	// Fixed at the destination: the row gets through and its rejection is forgotten.
	dest.respond = nil
	res = runSync(t, w, d, dest, Options{})
	if res.Status != StatusOK || res.Added != 1 || len(dest.keys()) != 5 {
		t.Fatalf("third run %+v", res.SyncRun)
	}
	if rej := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_rejections`); rej[0] != "0" {
		t.Errorf("rejection kept after success: %v", rej)
	}
}

func TestRateLimit(t *testing.T) {
	w := openWH(t)
	customers(t, w, 50)
	d := def("limited", syncdef.Mirror)
	dest := newFake(destination.Spec{BatchSize: 10, RateLimit: 4})
	clock := newClock()
	runSync(t, w, d, dest, Options{Clock: clock})
	if len(dest.batches) != 5 {
		t.Fatalf("%d batches", len(dest.batches))
	}
	// The first write goes at once, then one every 250ms.
	want := []time.Duration{250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
	if diff := cmp.Diff(want, clock.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestBatchSizeAndConcurrency(t *testing.T) {
	w := openWH(t)
	customers(t, w, 5000)
	d := def("wide", syncdef.Mirror)
	d.BatchSize = 300
	dest := newFake(destination.Spec{BatchSize: 1000, Concurrency: 4})
	dest.respond = func(_ int, b destination.Batch) (destination.Result, error) {
		time.Sleep(2 * time.Millisecond)
		return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
	}
	var last int64
	res := runSync(t, w, d, dest, Options{Progress: func(done, total int64) {
		if total != 5000 || done < last {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
	}})
	if res.Added != 5000 || last != 5000 {
		t.Fatalf("added %d, progress %d", res.Added, last)
	}
	for _, b := range dest.batches {
		if len(b.Rows) > 300 {
			t.Errorf("batch of %d rows", len(b.Rows))
		}
	}
	for k, n := range dest.arrived {
		if n != 1 {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	if len(dest.arrived) != 5000 {
		t.Errorf("%d arrived", len(dest.arrived))
	}
	d.BatchSize = 0 // the destination's limit
	exec(t, w, `UPDATE main.audience SET total_spend = total_spend + 1`)
	dest.batches = nil
	runSync(t, w, d, dest, Options{})
	if len(dest.batches) != 5 || len(dest.batches[0].Rows) != 1000 {
		t.Errorf("%d batches", len(dest.batches))
	}
}

// TestStopLosesNothing stops a run part-way (the caller's context is cancelled after some
// batches) and checks that what the destination acknowledged was committed: the next run sends
// only the rest.
func TestStopLosesNothing(t *testing.T) {
	w := openWH(t)
	customers(t, w, 400)
	d := def("stop", syncdef.Mirror)
	dest := newFake(destination.Spec{BatchSize: 20, Concurrency: 2})
	ctx, cancel := context.WithCancel(context.Background())
	dest.respond = func(call int, b destination.Batch) (destination.Result, error) {
		if call == 6 {
			cancel()
		}
		return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
	}
	res, err := Run(ctx, w, d, audience, dest, Options{Clock: newClock()})
	if err == nil || !strings.Contains(err.Error(), "interrupted after") || res.Status != StatusFailed {
		t.Fatalf("err %v status %s", err, res.Status)
	}
	sent := len(dest.arrived)
	snap := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_snapshot_stop`)
	if snap[0] != fmt.Sprint(sent) {
		t.Errorf("destination acknowledged %d rows, snapshot has %s", sent, snap[0])
	}
	dest.respond = nil
	res = runSync(t, w, d, dest, Options{})
	if res.Added != int64(400-sent) {
		t.Errorf("rerun added %d, want %d", res.Added, 400-sent)
	}
	for k, n := range dest.arrived {
		if n != 1 {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
}

func TestConstantsAndTypes(t *testing.T) {
	w := openWH(t)
	exec(t, w, `CREATE TABLE main.audience AS SELECT 1 AS profile_id, CAST(12.50 AS DECIMAL(10,2)) AS spend, 42::INTEGER AS n,
		TIMESTAMPTZ '2026-01-02 03:04:05+00' AS at, ['a', 'b'] AS tags, NULL::VARCHAR AS nothing`)
	d := &syncdef.Def{Name: "types", PrimaryKey: "profile_id", Mode: syncdef.Upsert, Destination: syncdef.Destination{Type: "fake"},
		Mapping: []syncdef.Field{{Name: "spend", Column: "spend"}, {Name: "n", Column: "n"}, {Name: "at", Column: "at"},
			{Name: "nothing", Column: "nothing"}, {Name: "k_bool", Const: true}, {Name: "k_int", Const: 7}, {Name: "k_float", Const: 1.5}, {Name: "k_null", Const: nil}}}
	slices.SortFunc(d.Mapping, func(a, b syncdef.Field) int { return strings.Compare(a.Name, b.Name) })
	dest := newFake(destination.Spec{})
	res := runSync(t, w, d, dest, Options{})
	got := dest.rows["1"]
	want := map[string]any{"spend": 12.5, "n": int64(42), "at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "nothing": nil,
		"k_bool": true, "k_int": 7, "k_float": 1.5, "k_null": nil}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if res.Added != 1 {
		t.Errorf("added %d", res.Added)
	}
	payload := queryStrings(t, w, `SELECT payload FROM _cdp.sync_snapshot_types`)
	if diff := cmp.Diff([]string{`{"at":"2026-01-02 03:04:05+00","k_bool":true,"k_float":1.5,"k_int":7,"k_null":null,"n":42,"nothing":null,"spend":12.5}`}, payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	// A constant's change is a change of every row.
	d.Mapping[2].Const = 8
	if p := plan(t, w, d); p.Changes != (Counts{Change: 1}) {
		t.Errorf("after a constant changed: %+v", p.Changes)
	}
}

// TestPages reads the plan in pages smaller than a batch and than the plan: every row is sent
// once, in send order (removes, changes, adds, each by key), in full batches.
func TestPages(t *testing.T) {
	defer func(n, one int64) { pageRows, onePage = n, one }(pageRows, onePage)
	pageRows, onePage = 7, 7
	w := openWH(t)
	customers(t, w, 60)
	d := def("paged", syncdef.Mirror)
	dest := newFake(destination.Spec{BatchSize: 10})
	runSync(t, w, d, dest, Options{})
	exec(t, w, `UPDATE main.audience SET total_spend = total_spend + 1 WHERE profile_id < 'c0010'`)
	exec(t, w, `DELETE FROM main.audience WHERE profile_id > 'c0050'`)
	dest.batches = nil
	res := runSync(t, w, d, dest, Options{})
	if res.Changed != 9 || res.Removed != 10 || res.Added != 0 {
		t.Fatalf("run %+v", res.SyncRun)
	}
	var got []string
	for _, b := range dest.batches {
		if len(b.Rows) != 10 && len(got)+len(b.Rows) != 19 {
			t.Errorf("batch of %d rows", len(b.Rows))
		}
		for _, r := range b.Rows {
			got = append(got, string(r.Action)+" "+r.Key)
		}
	}
	var want []string
	for i := 51; i <= 60; i++ {
		want = append(want, fmt.Sprintf("remove c%04d", i))
	}
	for i := 1; i <= 9; i++ {
		want = append(want, fmt.Sprintf("change c%04d", i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
}

// TestWebhookRateIsTheConfiguredOne runs a real webhook destination with rate_limit: both the
// engine (Spec.RateLimit) and the destination space their writes, and the effective rate must
// still be the configured one, not half of it.
func TestWebhookRateIsTheConfiguredOne(t *testing.T) {
	w := openWH(t)
	customers(t, w, 210)
	var mu gosync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	defer srv.Close()
	dest, err := webhook.New(map[string]any{"url": srv.URL, "secret": "s", "rate_limit": 40, "batch_size": 10, "concurrency": 4})
	if err != nil {
		t.Fatal(err)
	}
	runSync(t, w, def("webhook_rate", syncdef.Mirror), dest, Options{Clock: realClock{}})
	if len(arrivals) != 21 {
		t.Fatalf("%d requests, want 21", len(arrivals))
	}
	// 21 requests at 40/s: the first at once, then 20 × 25ms.
	if el := arrivals[20].Sub(arrivals[0]); el < 475*time.Millisecond || el > 900*time.Millisecond {
		t.Errorf("21 requests at rate_limit 40 took %s, want about 500ms", el)
	}
}
