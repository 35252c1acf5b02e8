package dag

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
)

// Status is the outcome of one node of a Walk.
type Status int

const (
	// Success: fn returned nil.
	Success Status = iota + 1
	// Failed: fn returned an error (or panicked). Unless the error is a soft failure (see
	// ErrSoftFail), the node's descendants are Skipped.
	Failed
	// Skipped: not run because an ancestor failed; Result.SkippedBecause names it.
	Skipped
	// Cancelled: not run because the context was done before it could start, or fn returned the
	// context's error after cancellation.
	Cancelled
)

func (s Status) String() string {
	switch s {
	case Success:
		return "success"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the outcome of one node of a Walk.
type Result struct {
	ID     string
	Status Status
	// Err is fn's error for Failed (and for Cancelled when fn ran), the context's cause for
	// Cancelled nodes that never started, nil otherwise.
	Err error
	// SkippedBecause is the failed ancestor that made a Skipped node not run.
	SkippedBecause string
}

// ErrSoftFail marks a failure that must not stop the walk below the node: when fn's error
// wraps it (errors.Is), the node is Failed but its descendants still run. Use it for data tests
// with severity warn. SoftFail wraps an error without changing its message.
var ErrSoftFail = errors.New("soft failure")

// SoftFail returns err marked as a soft failure (see ErrSoftFail), with the same message; nil
// stays nil.
func SoftFail(err error) error {
	if err == nil {
		return nil
	}
	return softError{err}
}

type softError struct{ error }

func (e softError) Unwrap() error        { return e.error }
func (e softError) Is(target error) bool { return target == ErrSoftFail }

// Walk runs fn on each node of order once every parent of it in order has finished with
// Success (or a soft failure), with at most threads calls running at once (threads < 1 means 1).
// Dependencies come from g, restricted to order: if a depends on b only through nodes outside
// order, a still waits for b. order should be a topological order (Sort, Select); among nodes
// ready at the same time, the earlier in order starts first, so threads = 1 runs exactly order.
// IDs not in g have no dependencies; a repeated ID is walked once.
//
// A node whose parent failed or was skipped does not run: it is Skipped, with SkippedBecause
// naming the failed ancestor (the earliest in order, if several). Once ctx is done no node
// starts: those left are Cancelled, and Walk waits for the running calls (which see ctx) to
// return. A panic in fn is recovered and reported as a failure of its node. Nodes that can never
// start because they lie on (or below) a dependency cycle are Failed with a *CycleError.
//
// Walk returns one Result per distinct ID, in order. onDone, if not nil, is called with each
// Result as its node finishes (including skipped and cancelled ones), one call at a time from
// the goroutine that called Walk: it may print progress without locking.
func Walk(ctx context.Context, g *Graph, order []string, threads int, fn func(ctx context.Context, id string) error, onDone func(Result)) []Result {
	w := newWalker(g, order, threads)
	return w.run(ctx, fn, onDone)
}

type walker struct {
	ids      []string
	parents  [][]int // by position in ids
	children [][]int
	pending  []int // parents not yet finished
	results  []Result
	done     []bool
	cause    []int // position of the failed ancestor, for Skipped nodes
	threads  int
}

func newWalker(g *Graph, order []string, threads int) *walker {
	w := &walker{threads: max(threads, 1)}
	seen := make(map[string]bool, len(order))
	var nodes []int
	for _, id := range order {
		if seen[id] {
			continue
		}
		seen[id] = true
		w.ids = append(w.ids, id)
		n, ok := g.index[id]
		if !ok {
			n = -1
		}
		nodes = append(nodes, n)
	}
	n := len(w.ids)
	w.parents = g.keptParents(nodes)
	w.children = make([][]int, n)
	w.pending = make([]int, n)
	for c, ps := range w.parents {
		w.pending[c] = len(ps)
		for _, p := range ps {
			w.children[p] = append(w.children[p], c)
		}
	}
	w.results = make([]Result, n)
	for i, id := range w.ids {
		w.results[i].ID = id
	}
	w.done = make([]bool, n)
	w.cause = make([]int, n)
	return w
}

type outcome struct {
	node int
	err  error
}

func (w *walker) run(ctx context.Context, fn func(context.Context, string) error, onDone func(Result)) []Result {
	n := len(w.ids)
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	ready := &nodeHeap{rank: pos}
	for i := range n {
		if w.pending[i] == 0 {
			ready.items = append(ready.items, i)
		}
	}
	ready.init()

	finished, running := 0, 0
	outcomes := make(chan outcome, w.threads)
	ctxDone := ctx.Done()
	// finish records a result and releases the node's children: those whose parents have all
	// finished are either resolved at once (Skipped, Cancelled) or queued to run.
	var queue []int
	finish := func(i int, r Result) {
		queue = append(queue[:0], i)
		w.results[i].Status, w.results[i].Err, w.results[i].SkippedBecause = r.Status, r.Err, r.SkippedBecause
		for len(queue) > 0 {
			v := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			w.done[v] = true
			finished++
			if onDone != nil {
				onDone(w.results[v])
			}
			for _, c := range w.children[v] {
				if w.pending[c]--; w.pending[c] > 0 {
					continue
				}
				if w.resolveBlocked(c, ctx) {
					queue = append(queue, c)
				} else {
					ready.push(c)
				}
			}
		}
	}

	for finished < n {
		for len(ready.items) > 0 {
			if ctx.Err() != nil {
				i := ready.pop()
				finish(i, Result{Status: Cancelled, Err: context.Cause(ctx)})
				continue
			}
			if running >= w.threads {
				break
			}
			i := ready.pop()
			running++
			go func(i int, id string) {
				outcomes <- outcome{i, call(ctx, fn, id)}
			}(i, w.ids[i])
		}
		if finished == n {
			break
		}
		if running == 0 && len(ready.items) == 0 {
			w.failCycle(onDone)
			break
		}
		select {
		case o := <-outcomes:
			running--
			finish(o.node, w.judge(ctx, o.err))
		case <-ctxDone:
			ctxDone = nil // seen; keep waiting for the running calls only
		}
	}
	return w.results
}

// judge turns fn's error into a result.
func (w *walker) judge(ctx context.Context, err error) Result {
	switch {
	case err == nil:
		return Result{Status: Success}
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Cause(ctx))):
		return Result{Status: Cancelled, Err: err}
	}
	return Result{Status: Failed, Err: err}
}

// resolveBlocked decides, once all of node c's parents have finished, whether c cannot run: it
// sets c's result to Skipped (a parent failed or was skipped) or Cancelled (a parent was
// cancelled) and reports true, or reports false if c may run.
func (w *walker) resolveBlocked(c int, ctx context.Context) bool {
	cause, cancelled := -1, false
	for _, p := range w.parents[c] {
		r := &w.results[p]
		var failed int
		switch {
		case r.Status == Failed && !errors.Is(r.Err, ErrSoftFail):
			failed = p
		case r.Status == Skipped:
			failed = w.cause[p]
		case r.Status == Cancelled:
			cancelled = true
			continue
		default:
			continue
		}
		if cause < 0 || failed < cause {
			cause = failed
		}
	}
	switch {
	case cause >= 0:
		w.results[c].Status, w.results[c].SkippedBecause = Skipped, w.ids[cause]
		w.cause[c] = cause
	case cancelled:
		w.results[c].Status, w.results[c].Err = Cancelled, context.Cause(ctx)
	default:
		return false
	}
	return true
}

// failCycle marks every unfinished node Failed: they wait on each other (or on nodes that do).
func (w *walker) failCycle(onDone func(Result)) {
	sub := New()
	for i, d := range w.done {
		if d {
			continue
		}
		sub.AddNode(w.ids[i])
		for _, p := range w.parents[i] {
			if !w.done[p] {
				sub.AddEdge(w.ids[p], w.ids[i])
			}
		}
	}
	err := &CycleError{Path: sub.Cycle()}
	for i, d := range w.done {
		if d {
			continue
		}
		w.done[i] = true
		w.results[i].Status, w.results[i].Err = Failed, err
		if onDone != nil {
			onDone(w.results[i])
		}
	}
}

// call runs fn, turning a panic into an error.
func call(ctx context.Context, fn func(context.Context, string) error, id string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx, id)
}
