package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/syncdef"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb/duckdbtest"
)

// fakeDest is a destination that keeps what it was sent, like a service would: rows by key,
// with every write and batch recorded. respond, when set, decides each Write's answer before
// the rows it acknowledges are applied.
type fakeDest struct {
	spec    destination.Spec
	respond func(call int, b destination.Batch) (destination.Result, error)

	mu      gosync.Mutex
	calls   int
	batches []destination.Batch // every Write, answered or not
	rows    map[string]map[string]any
	actions map[destination.Action]int // acknowledged rows per action
	arrived map[string]int             // acknowledged rows per key
	closed  bool
	started []destination.RunInfo
}

var (
	_ destination.Destination = (*fakeDest)(nil)
	_ destination.Closer      = (*fakeDest)(nil)
	_ destination.Starter     = (*fakeDest)(nil)
)

func newFake(spec destination.Spec) *fakeDest {
	if spec.Name == "" {
		spec.Name = "fake"
	}
	return &fakeDest{spec: spec, rows: map[string]map[string]any{}, actions: map[destination.Action]int{}, arrived: map[string]int{}}
}

func (f *fakeDest) Spec() destination.Spec { return f.spec }

func (f *fakeDest) Start(_ context.Context, run destination.RunInfo) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls > 0 && len(f.started) == 0 {
		return errors.New("started after a write")
	}
	f.started = append(f.started, run)
	f.closed = false
	return nil
}

func (f *fakeDest) Close(context.Context) error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *fakeDest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.batches = append(f.batches, b)
	f.mu.Unlock()
	res := destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}
	if f.respond != nil {
		var err error
		res, err = f.respond(call, b)
		if err != nil {
			return res, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range b.Rows {
		if res.Rows[i].Outcome != destination.OK {
			continue
		}
		f.actions[r.Action]++
		f.arrived[r.Key]++
		if r.Action == destination.Remove {
			delete(f.rows, r.Key)
		} else {
			f.rows[r.Key] = r.Fields
		}
	}
	return res, nil
}

// keys returns the keys the destination holds, sorted.
func (f *fakeDest) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.rows {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rejectKeys answers every Write with OK except the given keys, rejected with reason.
func rejectKeys(reason string, keys ...string) func(int, destination.Batch) (destination.Result, error) {
	return func(_ int, b destination.Batch) (destination.Result, error) {
		res := destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}
		for i, r := range b.Rows {
			if slices.Contains(keys, r.Key) {
				res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
			}
		}
		return res, nil
	}
}

// fakeClock advances only when slept on, and records every wait.
type fakeClock struct {
	mu     gosync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// clocks counts the fake clocks made, so each starts a minute after the one before and runs
// keep their order in the history.
var clocks atomic.Int64

func newClock() *fakeClock {
	n := clocks.Add(1)
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
	}
	return ctx.Err()
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

func openWH(t testing.TB) warehouse.Warehouse { return duckdbtest.Open(t) }

func exec(t testing.TB, w warehouse.Warehouse, sql string) { t.Helper(); duckdbtest.Exec(t, w, sql) }

func queryStrings(t testing.TB, w warehouse.Warehouse, sql string) []string {
	t.Helper()
	return duckdbtest.Lines(t, w, sql, func(v any) string { return fmt.Sprint(v) })
}

var audience = warehouse.Relation{Schema: "main", Name: "audience"}

// customers creates main.audience with n customers c0001.. (email, spend = i, consent true).
func customers(t testing.TB, w warehouse.Warehouse, n int) {
	t.Helper()
	exec(t, w, fmt.Sprintf(`CREATE OR REPLACE TABLE main.audience AS
		SELECT 'c' || lpad(CAST(i AS VARCHAR), 4, '0') AS profile_id,
			'user' || i || '@example.com' AS email,
			CAST(i AS DOUBLE) AS total_spend,
			i %% 3 AS plan_id,
			TRUE AS consent_marketing
		FROM range(1, %d) t(i)`, n+1))
}

func def(name string, mode syncdef.Mode) *syncdef.Def {
	return &syncdef.Def{
		Name: name, Model: "audience", PrimaryKey: "profile_id", Mode: mode,
		Mapping: []syncdef.Field{
			{Name: "email", Column: "email"},
			{Name: "source", Const: "cdp"},
			{Name: "spend", Column: "total_spend"},
		},
		Destination: syncdef.Destination{Type: "fake"},
	}
}

func runSync(t testing.TB, w warehouse.Warehouse, d *syncdef.Def, dest destination.Destination, opts Options) *Result {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = newClock()
	}
	res, err := Run(context.Background(), w, d, audience, dest, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func plan(t testing.TB, w warehouse.Warehouse, d *syncdef.Def) *Plan {
	t.Helper()
	p, err := NewPlan(context.Background(), w, d, audience, PlanOptions{})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

func warehouseRel(schema, name string) warehouse.Relation {
	return warehouse.Relation{Schema: schema, Name: name}
}
