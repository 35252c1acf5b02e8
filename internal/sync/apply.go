package sync

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/syncdef"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Run statuses, as recorded in _cdp.sync_runs.
const (
	StatusOK      = "ok"      // every planned row was acknowledged
	StatusPartial = "partial" // some rows were rejected or gave up after retries; they are planned again next run
	StatusRefused = "refused" // a guard stopped the plan; nothing was sent
	StatusFailed  = "failed"  // the run stopped on an error; what was acknowledged before it is committed
)

// Options configure a run.
type Options struct {
	// Force applies a plan that breaks a guard.
	Force bool
	// RunID names the run in _cdp.sync_runs; "" makes one.
	RunID string
	// Plan sets how many samples the run's plan carries.
	Plan PlanOptions
	// OnPlan, when set, is called with the plan before anything is sent.
	OnPlan func(*Plan)
	// Progress, when set, is called after each commit with the rows done (acknowledged,
	// rejected or given up) and the rows planned.
	Progress func(done, total int64)
	// Logf, when set, reports retries and splits as they happen.
	Logf func(format string, args ...any)
	// MaxRetries is how often one Write is retried after a retryable failure; 0 means 5.
	MaxRetries int
	// Backoff is the first retry's wait, doubled each retry up to MaxBackoff, with jitter;
	// 0 means 500ms and 30s. A Retry-After from the destination replaces it.
	Backoff, MaxBackoff time.Duration
	// Clock is the time source; nil is real time. Tests use a fake to observe waits.
	Clock Clock
	// Jitter returns a number in [0, 1) for backoff jitter; nil is math/rand.
	Jitter func() float64
}

// Clock is time as the engine sees it.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, and returns ctx's error in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result is what a run did.
type Result struct {
	state.SyncRun
	Destination string `json:"destination"`
	// Failed is the rows the destination kept asking to retry until the retries ran out. They
	// are planned again next run, like the rows a stopped run never got to.
	Failed        int64   `json:"failed"`
	RowsPerSecond float64 `json:"rows_per_second"`
	Plan          *Plan   `json:"plan"`
	// Rejections are the first rows rejected in this run.
	Rejections []state.SyncRejection `json:"rejections"`
}

// RefusedError is returned when a plan breaks a guard and the run is not forced.
type RefusedError struct {
	Sync       string
	Violations []Violation
}

func (e *RefusedError) Error() string {
	msgs := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		msgs[i] = v.Guard + ": " + v.Message
	}
	return fmt.Sprintf("sync %q: refused to apply the plan: %s", e.Sync, strings.Join(msgs, "; "))
}

const (
	defaultBatchSize = 500
	maxRejectSamples = 10
	// maxFailStreak is how many rows in a row may fail on their own, with no successful write
	// in between, before the run stops: past that the destination is down or misconfigured
	// (bad credentials), not fed a few bad rows.
	maxFailStreak = 10
)

// Run plans the sync and applies the plan to dest: it checks the guards, sends the planned
// rows in batches, commits each batch's acknowledged rows to the snapshot, records rejections,
// and records the run in _cdp.sync_runs whatever its outcome. A destination.Starter is started
// once the plan passes its guards (also when there is nothing to send), before any Write; a
// destination.Closer is closed at the end, whatever the outcome, since the rows committed
// before a failure are kept.
//
// The returned Result is never nil; the error says why a run failed or was refused
// (*RefusedError).
func Run(ctx context.Context, wh warehouse.Warehouse, def *syncdef.Def, model warehouse.Relation, dest destination.Destination, opts Options) (*Result, error) {
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Jitter == nil {
		opts.Jitter = mrand.Float64
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	if opts.Backoff == 0 {
		opts.Backoff = 500 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	start := time.Now()
	res := &Result{SyncRun: state.SyncRun{RunID: opts.RunID, Sync: def.Name, StartedAt: opts.Clock.Now()}, Destination: def.Destination.Type,
		Rejections: []state.SyncRejection{}}
	if res.RunID == "" {
		res.RunID = NewRunID(res.StartedAt)
	}
	err := run(ctx, wh, def, model, dest, opts, res)
	if c, ok := dest.(destination.Closer); ok {
		if cerr := c.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = fmt.Errorf("destination %q: close: %w", def.Destination.Type, cerr)
		}
	}
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		res.Status = StatusRefused
	case err != nil:
		res.Status = StatusFailed
		err = wrapSync(def, err)
	case res.Rejected > 0 || res.Failed > 0:
		res.Status = StatusPartial
	default:
		res.Status = StatusOK
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.FinishedAt = opts.Clock.Now()
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.RowsPerSecond = float64(res.Added+res.Changed+res.Removed+res.Rejected) / res.Seconds
	}
	return res, errors.Join(err, record(ctx, wh, res))
}

// record writes res to _cdp.sync_runs, even when ctx was cancelled: an interrupted run belongs
// in the history.
func record(ctx context.Context, wh warehouse.Warehouse, res *Result) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := state.EnsureSync(rctx, wh, ""); err != nil {
		return err
	}
	if err := wh.Exec(rctx, state.InsertSyncRun(wh.Dialect(), res.SyncRun)); err != nil {
		return fmt.Errorf("sync %q: record run: %w", res.Sync, err)
	}
	return nil
}

// RecordFailure records a run that could not start, such as one whose destination could not be
// made, and returns its Result and the error wrapped as Run wraps errors.
func RecordFailure(ctx context.Context, wh warehouse.Warehouse, def *syncdef.Def, runID string, cause error) (*Result, error) {
	now := time.Now()
	if runID == "" {
		runID = NewRunID(now)
	}
	err := wrapSync(def, cause)
	res := &Result{SyncRun: state.SyncRun{RunID: runID, Sync: def.Name, StartedAt: now, FinishedAt: now, Status: StatusFailed, Error: err.Error()},
		Destination: def.Destination.Type, Rejections: []state.SyncRejection{}}
	return res, errors.Join(err, record(ctx, wh, res))
}

// NewRunID returns a run ID that sorts by time: 20240102T030405Z-1a2b3c4d.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func run(ctx context.Context, wh warehouse.Warehouse, def *syncdef.Def, model warehouse.Relation, dest destination.Destination, opts Options, res *Result) (err error) {
	uncap, err := capMemory(ctx, wh)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := uncap(); err == nil {
			err = uerr
		}
	}()
	q, err := newQuery(ctx, wh, def, model)
	if err != nil {
		return err
	}
	defer q.drop(ctx)
	plan, err := q.plan(ctx, opts.Plan)
	if err != nil {
		return err
	}
	res.Plan = plan
	releaseMemory(wh)
	if opts.OnPlan != nil {
		opts.OnPlan(plan)
	}
	if len(plan.Guards) > 0 && !opts.Force {
		return &RefusedError{Sync: def.Name, Violations: plan.Guards}
	}
	// Started even without changes: a file destination writes a file for every run.
	if s, ok := dest.(destination.Starter); ok {
		if err := s.Start(ctx, destination.RunInfo{Sync: def.Name, ID: res.RunID, Started: res.StartedAt}); err != nil {
			return fmt.Errorf("destination %q: start: %w", def.Destination.Type, err)
		}
	}
	if !plan.HasChanges() {
		return nil
	}
	e, err := newEngine(ctx, q, dest, opts, res)
	if err != nil {
		return err
	}
	return e.run(ctx)
}

// item is one planned row with what its commit needs.
type item struct {
	row     destination.Row
	hash    string
	payload string
}

type rejection struct {
	item   item
	reason string
}

// outcome is what became of one batch's rows.
type outcome struct {
	acked    []item
	rejected []rejection
	failed   []item
	retried  int64
}

type batch struct {
	seq   int
	items []item
}

type commitReq struct {
	out  *outcome
	done chan error
}

type engine struct {
	q           *query
	dest        destination.Destination
	spec        destination.Spec
	opts        Options
	res         *Result
	batchSize   int
	concurrency int
	limit       *limiter
	total       int64

	failStreak atomic.Int64
	commits    chan commitReq
	// writes is the context of destination Writes: cancelled when the run fails, not when the
	// caller stops it, so that a stop lets the batches in flight be answered and committed.
	writes context.Context

	// Owned by the committer.
	rejections map[string]state.SyncRejection
	done       int64
	mu         gosync.Mutex // guards res counters read by the caller's progress
}

func newEngine(ctx context.Context, q *query, dest destination.Destination, opts Options, res *Result) (*engine, error) {
	spec := dest.Spec()
	e := &engine{q: q, dest: dest, spec: spec, opts: opts, res: res, total: res.Plan.Changes.Total()}
	e.batchSize = q.def.BatchSize
	if spec.BatchSize > 0 && (e.batchSize == 0 || spec.BatchSize < e.batchSize) {
		e.batchSize = spec.BatchSize
	}
	if e.batchSize == 0 {
		e.batchSize = defaultBatchSize
	}
	e.concurrency = max(spec.Concurrency, 1)
	if spec.RateLimit > 0 {
		e.limit = &limiter{clock: opts.Clock, interval: time.Duration(float64(time.Second) / spec.RateLimit)}
	}
	var err error
	e.rejections, err = state.SyncRejectionsOf(ctx, q.wh, q.def.Name)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func (e *engine) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// run streams the planned rows into batches, delivers them with up to concurrency in flight,
// and commits each batch's outcome before taking the next.
//
// When parent is cancelled (SIGINT, SIGTERM, the scheduler stopping) the run stops as a person
// would want: no batch is started, retried or waited for any more, but the Writes in flight get
// their answer (within the destination's timeout) and what was acknowledged is committed, so
// the next run sends exactly the rest. A failure cancels the Writes in flight too.
func (e *engine) run(parent context.Context) error {
	writes, failWrites := context.WithCancelCause(context.WithoutCancel(parent))
	defer failWrites(nil)
	e.writes = writes
	ctx, cancel := context.WithCancel(writes) // stopped or failed
	defer cancel()
	defer context.AfterFunc(parent, cancel)()
	batches := make(chan batch)
	e.commits = make(chan commitReq, e.concurrency)
	var firstErr error
	var errOnce gosync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; failWrites(err) })
	}

	committed := make(chan struct{})
	go func() {
		defer close(committed)
		e.committer(context.WithoutCancel(parent))
	}()
	var workers gosync.WaitGroup
	for range e.concurrency {
		workers.Go(func() {
			for b := range batches {
				if ctx.Err() != nil {
					continue // read before the stop, not started: the next run sends it
				}
				out, err := e.deliver(ctx, b)
				if out != nil {
					// Commit what was acknowledged even when the batch then failed: those rows
					// reached the destination.
					if cerr := e.commit(out); cerr != nil {
						fail(cerr)
						continue
					}
				}
				// A batch stopped by another's failure or by the caller has no error of its own.
				if err != nil && ctx.Err() == nil {
					fail(fmt.Errorf("destination %q: %w", e.q.def.Destination.Type, err))
				}
			}
		})
	}
	readErr := e.read(ctx, batches)
	close(batches)
	workers.Wait()
	close(e.commits)
	<-committed
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil {
		return readErr
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("interrupted after %d of %d rows: %w", e.done, e.total, err)
	}
	return nil
}

// read streams the planned rows from the warehouse into batches: from an embedded engine a page
// of the staged plan at a time, in send order, since each query's result is held whole.
func (e *engine) read(ctx context.Context, out chan<- batch) error {
	q := e.q
	table := q.wh.Staged(q.stageName)
	queries := []string{q.rowsSQL(table)}
	if em, ok := q.wh.(embedded); ok && e.total > onePage {
		if err := em.CompactStaged(ctx); err != nil {
			return fmt.Errorf("compact the staged plan: %w", err)
		}
		releaseMemory(q.wh)
		queries = queries[:0]
		for lo := int64(0); lo < e.total; lo += pageRows {
			queries = append(queries, q.rowsSQL(fmt.Sprintf("(SELECT cdp_action, cdp_key, cdp_reason FROM %s WHERE %s >= %d AND %s < %d)",
				table, em.RowNumber(), lo, em.RowNumber(), lo+pageRows)))
		}
	}
	r := &reader{e: e, out: out, cur: make([]item, 0, e.batchSize)}
	for _, sql := range queries {
		more, err := r.read(ctx, sql)
		releaseMemory(q.wh)
		if err != nil || !more {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	if len(r.cur) > 0 {
		r.send(ctx)
	}
	return nil
}

// reader turns query results into batches of the engine's size, across pages.
type reader struct {
	e   *engine
	out chan<- batch
	seq int
	cur []item
}

func (r *reader) send(ctx context.Context) bool {
	r.seq++
	select {
	case r.out <- batch{seq: r.seq, items: r.cur}:
		r.cur = make([]item, 0, r.e.batchSize)
		return true
	case <-ctx.Done():
		return false
	}
}

// read adds the rows of one query to batches; it reports false when the run was stopped.
func (r *reader) read(ctx context.Context, sql string) (bool, error) {
	q := r.e.q
	rows, err := q.wh.Query(ctx, sql)
	if err != nil {
		return false, fmt.Errorf("read planned rows: %w", err)
	}
	defer rows.Close()
	mapping := q.def.Mapping
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return false, fmt.Errorf("read planned rows: %w", err)
		}
		action := destination.Action(vals[0].(string))
		it := item{row: destination.Row{Key: vals[1].(string), Action: action}, hash: vals[2].(string), payload: vals[3].(string)}
		if action == destination.Remove {
			it.row.Fields = plainFields(decodePayload(it.payload))
		} else {
			it.row.Fields = make(map[string]any, len(mapping))
			col := 6
			for i, f := range mapping {
				if q.fields[i] == "" {
					it.row.Fields[f.Name] = f.Const
					continue
				}
				it.row.Fields[f.Name] = plainValue(vals[col])
				col++
			}
		}
		r.cur = append(r.cur, it)
		if len(r.cur) == r.e.batchSize && !r.send(ctx) {
			return false, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("read planned rows: %w", err)
	}
	return true, nil
}

// deliver sends one batch, retrying and splitting as needed. The outcome is returned even with
// an error, for the rows acknowledged before it.
func (e *engine) deliver(ctx context.Context, b batch) (*outcome, error) {
	out := &outcome{}
	return out, e.send(ctx, b.seq, b.items, 0, out)
}

// send writes items, retrying retryable failures (the whole write, or the rows the destination
// said to retry) and splitting a write that fails as a whole. depth is how many splits led here.
func (e *engine) send(ctx context.Context, seq int, items []item, depth int, out *outcome) error {
	pending := items
	retries := 0
	for len(pending) > 0 {
		res, err := e.write(ctx, pending)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var re *destination.RetryableError
			if errors.As(err, &re) {
				if retries >= e.opts.MaxRetries {
					return fmt.Errorf("batch %d: %w after %d retries", seq, err, retries)
				}
				retries++
				out.retried++
				wait := e.backoff(retries, re.RetryAfter)
				e.logf("batch %d: %v; retry %d/%d in %s", seq, err, retries, e.opts.MaxRetries, wait.Round(time.Millisecond))
				if err := e.opts.Clock.Sleep(ctx, wait); err != nil {
					return err
				}
				continue
			}
			return e.split(ctx, seq, pending, depth, err.Error(), out)
		}
		if len(res.Rows) != len(pending) {
			return fmt.Errorf("batch %d: the destination returned %d results for %d rows", seq, len(res.Rows), len(pending))
		}
		if reason, all := allRejected(res); all && len(pending) > 1 {
			// One reason for every row usually means one bad row spoiled the write.
			return e.split(ctx, seq, pending, depth, reason, out)
		}
		var again []item
		var againReason string
		for i, r := range res.Rows {
			switch r.Outcome {
			case destination.OK:
				out.acked = append(out.acked, pending[i])
				e.failStreak.Store(0)
			case destination.Rejected:
				out.rejected = append(out.rejected, rejection{pending[i], r.Reason})
				if depth > 0 && len(pending) == 1 {
					if err := e.streak(seq, r.Reason); err != nil {
						return err
					}
				}
			case destination.Retryable:
				again = append(again, pending[i])
				againReason = r.Reason
			default:
				return fmt.Errorf("batch %d: the destination returned unknown outcome %d for row %q", seq, r.Outcome, pending[i].row.Key)
			}
		}
		if len(again) == 0 {
			return nil
		}
		if retries >= e.opts.MaxRetries {
			e.logf("batch %d: %d row(s) still not accepted after %d retries (%s); they are sent again next run", seq, len(again), retries, againReason)
			out.failed = append(out.failed, again...)
			return nil
		}
		retries++
		out.retried++
		wait := e.backoff(retries, 0)
		e.logf("batch %d: %d row(s) to retry (%s); retry %d/%d in %s", seq, len(again), againReason, retries, e.opts.MaxRetries, wait.Round(time.Millisecond))
		if err := e.opts.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
		pending = again
	}
	return nil
}

func allRejected(res destination.Result) (string, bool) {
	if len(res.Rows) == 0 {
		return "", false
	}
	reason := res.Rows[0].Reason
	for _, r := range res.Rows {
		if r.Outcome != destination.Rejected || r.Reason != reason {
			return "", false
		}
	}
	return reason, true
}

// split isolates the rows that make a write fail: halves are sent on their own until a single
// row fails, which is then rejected with reason.
func (e *engine) split(ctx context.Context, seq int, items []item, depth int, reason string, out *outcome) error {
	if len(items) == 1 {
		out.rejected = append(out.rejected, rejection{items[0], reason})
		return e.streak(seq, reason)
	}
	if depth == 0 {
		e.logf("batch %d: %d rows failed together (%s); splitting to find the bad rows", seq, len(items), reason)
	}
	mid := len(items) / 2
	if err := e.send(ctx, seq, items[:mid], depth+1, out); err != nil {
		return err
	}
	return e.send(ctx, seq, items[mid:], depth+1, out)
}

// streak counts a row that failed on its own and stops the run when too many do in a row.
func (e *engine) streak(seq int, reason string) error {
	if n := e.failStreak.Add(1); n >= maxFailStreak {
		return fmt.Errorf("batch %d: %d rows in a row failed on their own (last: %s); stopping, since the destination looks down or misconfigured rather than fed a few bad rows", seq, n, reason)
	}
	return nil
}

// write makes one Write call, rate-limited, with the destination's timeout; a timeout is
// retryable.
func (e *engine) write(ctx context.Context, items []item) (destination.Result, error) {
	if err := e.limit.wait(ctx); err != nil {
		return destination.Result{}, err
	}
	b := destination.Batch{Sync: e.q.def.Name, Mode: string(e.q.def.Mode), Rows: make([]destination.Row, len(items))}
	h := sha256.New()
	h.Write([]byte(b.Sync))
	for i, it := range items {
		b.Rows[i] = it.row
		h.Write([]byte{0})
		h.Write([]byte(it.row.Key))
		h.Write([]byte{0})
		h.Write([]byte(it.row.Action))
		h.Write([]byte{0})
		h.Write([]byte(it.hash))
	}
	b.ID = hex.EncodeToString(h.Sum(nil)[:16])
	wctx := e.writes
	if e.spec.Timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(wctx, e.spec.Timeout)
		defer cancel()
	}
	res, err := e.dest.Write(wctx, b)
	if err != nil && e.writes.Err() != nil {
		return res, err // the run failed elsewhere
	}
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		err = &destination.RetryableError{Err: fmt.Errorf("timed out after %s: %w", e.spec.Timeout, err)}
	}
	return res, err
}

// backoff is the wait before retry n (1-based): the destination's Retry-After when it gave one
// (plus up to 10% jitter, so concurrent batches do not return at once), else exponential from
// Backoff up to MaxBackoff with jitter in its upper half.
func (e *engine) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + time.Duration(e.opts.Jitter()*float64(retryAfter)/10)
	}
	d := float64(e.opts.Backoff) * math.Pow(2, float64(n-1))
	d = math.Min(d, float64(e.opts.MaxBackoff))
	return time.Duration(d/2 + e.opts.Jitter()*d/2)
}

// commit hands an outcome to the committer and waits until it is in the warehouse.
func (e *engine) commit(out *outcome) error {
	if len(out.acked) == 0 && len(out.rejected) == 0 && len(out.failed) == 0 && out.retried == 0 {
		return nil
	}
	req := commitReq{out: out, done: make(chan error, 1)}
	e.commits <- req
	return <-req.done
}

// committer commits outcomes in arrival order, several at once when they queue up (one
// transaction per group, so a fast destination is not held up by the warehouse's commits).
func (e *engine) committer(ctx context.Context) {
	for req := range e.commits {
		group := []commitReq{req}
	drain:
		for len(group) < e.concurrency {
			select {
			case r, ok := <-e.commits:
				if !ok {
					break drain
				}
				group = append(group, r)
			default:
				break drain
			}
		}
		err := e.commitGroup(ctx, group)
		for _, r := range group {
			r.done <- err
		}
	}
}

func (e *engine) commitGroup(ctx context.Context, group []commitReq) error {
	d := e.q.d
	var up state.SnapshotRows
	var deleted, cleared []string
	var rejected []state.SyncRejection
	var counts Counts
	var nRejected, nFailed, nRetried int64
	now := e.opts.Clock.Now().UTC()
	for _, r := range group {
		for _, it := range r.out.acked {
			counts.add(it.row.Action, 1)
			if it.row.Action != destination.Add {
				deleted = append(deleted, it.row.Key)
			}
			if it.row.Action != destination.Remove {
				up.Keys = append(up.Keys, it.row.Key)
				up.Hashes = append(up.Hashes, it.hash)
				up.Payloads = append(up.Payloads, it.payload)
			}
			if _, ok := e.rejections[it.row.Key]; ok {
				cleared = append(cleared, it.row.Key)
			}
		}
		for _, rj := range r.out.rejected {
			prev, ok := e.rejections[rj.item.row.Key]
			first, attempts := now, int64(0)
			if ok {
				first, attempts = prev.FirstSeen, prev.Attempts
			}
			rejected = append(rejected, state.SyncRejection{Sync: e.q.def.Name, Key: rj.item.row.Key, Action: string(rj.item.row.Action),
				Reason: rj.reason, FirstSeen: first, LastSeen: now, Attempts: attempts + 1})
		}
		nRejected += int64(len(r.out.rejected))
		nFailed += int64(len(r.out.failed))
		nRetried += r.out.retried
	}
	stmts := state.CommitSnapshot(d, e.q.def.Name, up, deleted)
	if len(cleared) > 0 {
		stmts = append(stmts, state.DeleteSyncRejections(d, e.q.def.Name, cleared))
	}
	stmts = append(stmts, state.RecordSyncRejections(d, e.q.def.Name, rejected)...)
	if len(stmts) > 0 {
		if err := e.q.wh.ExecAtomic(ctx, stmts...); err != nil {
			return fmt.Errorf("commit to snapshot %s: %w", state.SyncSnapshot(e.q.def.Name), err)
		}
	}
	for _, k := range cleared {
		delete(e.rejections, k)
	}
	for _, r := range rejected {
		e.rejections[r.Key] = r
	}
	e.mu.Lock()
	e.res.Added += counts.Add
	e.res.Changed += counts.Change
	e.res.Removed += counts.Remove
	e.res.Rejected += nRejected
	e.res.Failed += nFailed
	e.res.Retried += nRetried
	for _, r := range rejected {
		if len(e.res.Rejections) < maxRejectSamples {
			e.res.Rejections = append(e.res.Rejections, r)
		}
	}
	e.done += counts.Total() + nRejected + nFailed
	done := e.done
	e.mu.Unlock()
	if e.opts.Progress != nil {
		e.opts.Progress(done, e.total)
	}
	return nil
}

// limiter spaces Writes at least interval apart across all workers.
type limiter struct {
	mu       gosync.Mutex
	clock    Clock
	interval time.Duration
	next     time.Time
}

func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := l.clock.Now()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	l.mu.Unlock()
	return l.clock.Sleep(ctx, at.Sub(now))
}

// plainValue turns a warehouse value into the plain values destinations receive: integers as
// int64, decimals as int64 or float64, floats as float64.
func plainValue(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		return numberValue(x)
	case map[string]any:
		return plainFields(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	}
	return v
}

func numberValue(n json.Number) any {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return f
	}
	return string(n)
}

// plainFields converts a decoded payload's values in place.
func plainFields(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = plainValue(v)
	}
	return m
}
