package dag_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cdp-dev/cdp/internal/dag"
)

// recorder is a walk function that checks, inside each call, that every parent's call has
// returned (happens-before), records calls, and fails the nodes it is told to.
type recorder struct {
	deps     func(id string) []string // the parents to check; default g.Ancestors within the walk
	errs     map[string]error
	mu       sync.Mutex
	called   []string
	finished sync.Map // id -> true once its call returned
	t        *testing.T
}

func (r *recorder) fn(ctx context.Context, id string) error {
	for _, p := range r.deps(id) {
		if _, ok := r.finished.Load(p); !ok {
			r.t.Errorf("%s started before its parent %s finished", id, p)
		}
	}
	r.mu.Lock()
	r.called = append(r.called, id)
	r.mu.Unlock()
	defer r.finished.Store(id, true)
	return r.errs[id]
}

// walkResults compares Results with errors by message.
var cmpResults = cmp.Options{
	cmp.Comparer(func(a, b error) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return a.Error() == b.Error()
	}),
}

func TestWalkFailureSkipsDescendantsOnly(t *testing.T) {
	// a -> b -> c -> d, b -> e, a -> f, f -> h, b -> h, g alone.
	g := build("a>b b>c c>d b>e a>f f>h b>h g")
	order, err := g.Sort()
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	want := map[string]dag.Result{
		"a": {ID: "a", Status: dag.Success},
		"b": {ID: "b", Status: dag.Failed, Err: boom},
		"c": {ID: "c", Status: dag.Skipped, SkippedBecause: "b"},
		"d": {ID: "d", Status: dag.Skipped, SkippedBecause: "b"},
		"e": {ID: "e", Status: dag.Skipped, SkippedBecause: "b"},
		"f": {ID: "f", Status: dag.Success},
		"g": {ID: "g", Status: dag.Success},
		"h": {ID: "h", Status: dag.Skipped, SkippedBecause: "b"},
	}
	for _, threads := range []int{1, 3, 16} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			r := &recorder{deps: g.Parents, errs: map[string]error{"b": boom}, t: t}
			var done []string
			results := dag.Walk(context.Background(), g, order, threads, r.fn, func(res dag.Result) {
				for _, p := range g.Parents(res.ID) {
					if !contains(done, p) {
						t.Errorf("onDone(%s) before onDone(%s)", res.ID, p)
					}
				}
				done = append(done, res.ID)
			})
			var wantList []dag.Result
			for _, id := range order {
				wantList = append(wantList, want[id])
			}
			if diff := cmp.Diff(wantList, results, cmpResults); diff != "" {
				t.Errorf("results (-want +got)\n%s", diff)
			}
			if diff := cmp.Diff([]string{"a", "b", "f", "g"}, r.called, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("called (-want +got)\n%s", diff)
			}
			if len(done) != len(order) {
				t.Errorf("onDone called %d times for %d nodes", len(done), len(order))
			}
		})
	}
}

func TestWalkSkippedBecauseEarliestFailure(t *testing.T) {
	g := build("x>z y>z z>w")
	for _, order := range [][]string{{"x", "y", "z", "w"}, {"y", "x", "z", "w"}} {
		r := &recorder{deps: g.Parents, errs: map[string]error{"x": errors.New("x"), "y": errors.New("y")}, t: t}
		results := dag.Walk(context.Background(), g, order, 2, r.fn, nil)
		for _, res := range results[2:] {
			if res.Status != dag.Skipped || res.SkippedBecause != order[0] {
				t.Errorf("order %v: %s = %v because %q, want skipped because %q", order, res.ID, res.Status, res.SkippedBecause, order[0])
			}
		}
	}
}

func TestWalkSoftFailure(t *testing.T) {
	g := build("a>b b>c a>d d>e")
	order, _ := g.Sort()
	soft := dag.SoftFail(errors.New("3 rows failed accepted_values"))
	wrapped := fmt.Errorf("test warned: %w", dag.ErrSoftFail)
	r := &recorder{deps: g.Parents, errs: map[string]error{"b": soft, "d": wrapped}, t: t}
	results := dag.Walk(context.Background(), g, order, 2, r.fn, nil)
	want := []dag.Result{
		{ID: "a", Status: dag.Success},
		{ID: "b", Status: dag.Failed, Err: soft},
		{ID: "c", Status: dag.Success},
		{ID: "d", Status: dag.Failed, Err: wrapped},
		{ID: "e", Status: dag.Success},
	}
	if diff := cmp.Diff(want, results, cmpResults); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got := results[1].Err.Error(); got != "3 rows failed accepted_values" {
		t.Errorf("SoftFail changed the message: %q", got)
	}
	if !errors.Is(results[1].Err, dag.ErrSoftFail) || dag.SoftFail(nil) != nil {
		t.Error("SoftFail: errors.Is(ErrSoftFail) false, or SoftFail(nil) != nil")
	}
}

func TestWalkThreadsBound(t *testing.T) {
	// 40 independent nodes and a chain: enough work to fill any number of threads.
	g := build("c1>c2 c2>c3 c3>c4")
	for i := range 40 {
		g.AddNode(fmt.Sprintf("n%02d", i))
	}
	order, _ := g.Sort()
	for _, threads := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint("threads=", threads), func(t *testing.T) {
			var cur, peak atomic.Int32
			full := make(chan struct{})
			var once sync.Once
			// Calls wait until threads of them run at once (or 10 s pass), so the peak is
			// reached whatever the machine's load; none may ever exceed it.
			patience, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fn := func(ctx context.Context, id string) error {
				n := cur.Add(1)
				defer cur.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				if n == int32(threads) {
					once.Do(func() { close(full) })
				}
				select {
				case <-full:
				case <-patience.Done():
				}
				return nil
			}
			results := dag.Walk(context.Background(), g, order, threads, fn, nil)
			if got := peak.Load(); got != int32(threads) {
				t.Errorf("peak concurrency = %d, want %d", got, threads)
			}
			for _, r := range results {
				if r.Status != dag.Success {
					t.Errorf("%s: %v", r.ID, r.Status)
				}
			}
		})
	}
}

func TestWalkZeroThreadsRunsInOrder(t *testing.T) {
	g := build("b>a c d>c")
	order := []string{"d", "b", "c", "a", "b"} // a repeated ID is walked once
	var called []string
	results := dag.Walk(context.Background(), g, order, 0, func(_ context.Context, id string) error {
		called = append(called, id)
		return nil
	}, nil)
	if diff := cmp.Diff([]string{"d", "b", "c", "a"}, called); diff != "" {
		t.Errorf("called (-want +got)\n%s", diff)
	}
	if len(results) != 4 || results[3].ID != "a" {
		t.Errorf("results = %v", results)
	}
}

// TestWalkTransitiveDependencies walks a selection that leaves out the middle of a chain: the
// selected child still waits for the selected parent.
func TestWalkTransitiveDependencies(t *testing.T) {
	g := build("a>x x>y y>b c")
	var aDone atomic.Bool
	results := dag.Walk(context.Background(), g, []string{"a", "c", "b"}, 3, func(_ context.Context, id string) error {
		switch id {
		case "a":
			time.Sleep(20 * time.Millisecond)
			aDone.Store(true)
		case "b":
			if !aDone.Load() {
				return errors.New("b started before a finished")
			}
		}
		return nil
	}, nil)
	for _, r := range results {
		if r.Status != dag.Success {
			t.Errorf("%s: %v %v", r.ID, r.Status, r.Err)
		}
	}
}

func TestWalkCancellation(t *testing.T) {
	t.Run("stops starting nodes", func(t *testing.T) {
		g := build("a>b a>c b>d c>e f>g")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		boom := errors.New("boom")
		var called []string
		// threads = 1 runs the order as given: f fails, a succeeds, b succeeds and cancels, so
		// nothing after it starts.
		results := dag.Walk(ctx, g, []string{"f", "a", "b", "c", "d", "e", "g"}, 1, func(_ context.Context, id string) error {
			called = append(called, id)
			switch id {
			case "f":
				return boom
			case "b":
				cancel()
			}
			return nil
		}, nil)
		want := []dag.Result{
			{ID: "f", Status: dag.Failed, Err: boom},
			{ID: "a", Status: dag.Success},
			{ID: "b", Status: dag.Success},
			{ID: "c", Status: dag.Cancelled, Err: context.Canceled},
			{ID: "d", Status: dag.Cancelled, Err: context.Canceled},
			{ID: "e", Status: dag.Cancelled, Err: context.Canceled},
			// g's parent failed: it would not have run anyway.
			{ID: "g", Status: dag.Skipped, SkippedBecause: "f"},
		}
		if diff := cmp.Diff(want, results, cmpResults); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
		if diff := cmp.Diff([]string{"f", "a", "b"}, called); diff != "" {
			t.Errorf("called (-want +got)\n%s", diff)
		}
	})

	t.Run("waits for running nodes", func(t *testing.T) {
		g := build("x y y>z")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		stop := errors.New("interrupted")
		yStarted := make(chan struct{})
		var yReturned atomic.Bool
		results := dag.Walk(ctx, g, []string{"y", "x", "z"}, 2, func(ctx context.Context, id string) error {
			switch id {
			case "x":
				<-yStarted
				cancel(stop)
				return nil
			case "y":
				close(yStarted)
				<-ctx.Done()
				time.Sleep(10 * time.Millisecond) // cleanup after cancellation
				yReturned.Store(true)
				return fmt.Errorf("query aborted: %w", context.Cause(ctx))
			}
			t.Errorf("%s ran after cancellation", id)
			return nil
		}, nil)
		if !yReturned.Load() {
			t.Error("Walk returned before the running node did")
		}
		want := []dag.Result{
			{ID: "y", Status: dag.Cancelled, Err: errors.New("query aborted: interrupted")},
			{ID: "x", Status: dag.Success},
			{ID: "z", Status: dag.Cancelled, Err: stop},
		}
		if diff := cmp.Diff(want, results, cmpResults); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		g := build("a>b c")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var n int
		results := dag.Walk(ctx, g, []string{"a", "b", "c"}, 4, func(context.Context, string) error { n++; return nil }, nil)
		for _, r := range results {
			if r.Status != dag.Cancelled || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("%s: %v %v", r.ID, r.Status, r.Err)
			}
		}
		if n != 0 {
			t.Errorf("fn called %d times", n)
		}
	})
}

func TestWalkPanic(t *testing.T) {
	g := build("a>b c")
	results := dag.Walk(context.Background(), g, []string{"a", "b", "c"}, 2, func(_ context.Context, id string) error {
		if id == "a" {
			panic("kaboom")
		}
		return nil
	}, nil)
	if r := results[0]; r.Status != dag.Failed || !strings.HasPrefix(r.Err.Error(), "panic: kaboom\n") {
		t.Errorf("a: %v %v", r.Status, r.Err)
	}
	if results[1].Status != dag.Skipped || results[2].Status != dag.Success {
		t.Errorf("b, c: %v, %v", results[1].Status, results[2].Status)
	}
}

func TestWalkCycle(t *testing.T) {
	g := build("a>b b>c c>b c>d e")
	var done int
	results := dag.Walk(context.Background(), g, []string{"a", "b", "c", "d", "e"}, 2, func(context.Context, string) error { return nil }, func(dag.Result) { done++ })
	want := []dag.Status{dag.Success, dag.Failed, dag.Failed, dag.Failed, dag.Success}
	for i, r := range results {
		if r.Status != want[i] {
			t.Errorf("%s: %v, want %v", r.ID, r.Status, want[i])
		}
	}
	if got := fmt.Sprint(results[3].Err); got != "dependency cycle: b -> c -> b" {
		t.Errorf("d: err = %q", got)
	}
	if done != 5 {
		t.Errorf("onDone called %d times", done)
	}
}

func TestWalkLarge(t *testing.T) {
	p := genProject(10_000, 9)
	order, err := p.g.Sort()
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{deps: p.g.Parents, t: t}
	var done int
	results := dag.Walk(context.Background(), p.g, order, 8, r.fn, func(dag.Result) { done++ })
	for _, res := range results {
		if res.Status != dag.Success {
			t.Fatalf("%s: %v", res.ID, res.Status)
		}
	}
	if len(r.called) != p.g.Len() || done != p.g.Len() {
		t.Errorf("called %d, done %d, want %d", len(r.called), done, p.g.Len())
	}

	// A selection walked with a failure near the top: every descendant is skipped.
	sel, err := p.g.Select([]string{"tag:nightly+"}, nil, resolver(p.g, p.tags))
	if err != nil {
		t.Fatal(err)
	}
	fail := sel[0]
	r = &recorder{deps: func(string) []string { return nil }, errs: map[string]error{fail: errors.New("x")}, t: t}
	results = dag.Walk(context.Background(), p.g, sel, 4, r.fn, nil)
	below := map[string]bool{}
	for _, d := range p.g.Descendants(fail, -1) {
		below[d] = true
	}
	for _, res := range results {
		switch {
		case res.ID == fail:
		case below[res.ID]:
			if res.Status != dag.Skipped || res.SkippedBecause != fail {
				t.Fatalf("%s: %v because %q, want skipped because %s", res.ID, res.Status, res.SkippedBecause, fail)
			}
		case res.Status != dag.Success:
			t.Fatalf("%s: %v (because %q), but it does not depend on %s", res.ID, res.Status, res.SkippedBecause, fail)
		}
	}
}
