package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Clock is the time source of a Scheduler.
type Clock interface {
	Now() time.Time
	// After sends the time on the returned channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is the wall clock.
var RealClock Clock = realClock{}

// Status of one job run, or of one step of a pipeline.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusSkipped = "skipped" // due while still running
	StatusNotRun  = "not_run" // a step after one that failed, or after the stop came
)

// Result is one firing of a job.
type Result struct {
	Job      string        `json:"job"`
	Status   string        `json:"status"`
	Due      time.Time     `json:"due"`
	Started  time.Time     `json:"started_at"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	Error    string        `json:"error,omitempty"`
	Err      error         `json:"-"`
	// Steps are the outcomes of a pipeline's steps, every step of the run in order.
	Steps []StepResult `json:"steps,omitempty"`
}

// StepResult is the outcome of one step of a pipeline run.
type StepResult struct {
	Step    string    `json:"step"`
	Status  string    `json:"status"` // ok, error or not_run
	Started time.Time `json:"started_at"`
	Seconds float64   `json:"seconds"`
	Error   string    `json:"error,omitempty"`
	Err     error     `json:"-"`
	// Detail is what the step's function returned besides its error, for the caller's report.
	Detail any `json:"-"`
}

// Options configure a Scheduler.
type Options struct {
	Clock  Clock        // default RealClock
	Logger *slog.Logger // default: discards
	// OnResult, when set, is called after every run and every skipped firing, never twice at
	// once. The result of a run is reported before the next job starts, so OnResult may use
	// what jobs take turns over (such as a single-writer warehouse); a skipped firing may be
	// reported while another job runs.
	OnResult func(Result)
}

// Job is a named function, or a pipeline of steps, run on a cron schedule.
type Job struct {
	Name string
	Spec string
	Run  func(ctx context.Context) error
	// Steps, when Run is nil, make the job a pipeline: the steps run in order and the first
	// that fails ends the run, so later steps never act on what a failed step left half done.
	// Steps is called at the start of every run, so the steps of one run can share state that
	// the next run starts without.
	Steps func() []Step
}

// Step is one step of a pipeline job. Run returns, besides its error, any detail the caller
// wants in the step's result (counts, per-item outcomes).
type Step struct {
	Name string
	Run  func(ctx context.Context) (detail any, err error)
}

type entry struct {
	job   Job
	sched cron.Schedule
	next  time.Time
	busy  atomic.Bool // running or waiting to run
}

// Scheduler runs jobs on their schedules.
type Scheduler struct {
	clock    Clock
	log      *slog.Logger
	onResult func(Result)
	entries  []*entry
	turn     sync.Mutex // one job at a time
	resMu    sync.Mutex // serializes OnResult
}

// New returns a Scheduler without jobs.
func New(opts Options) *Scheduler {
	s := &Scheduler{clock: opts.Clock, log: opts.Logger, onResult: opts.OnResult}
	if s.clock == nil {
		s.clock = RealClock
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

// NewLogger is a text slog.Logger writing to w.
func NewLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// Add adds a job; its spec must parse with the standard cron parser. Names are unique.
func (s *Scheduler) Add(j Job) error {
	if (j.Run == nil) == (j.Steps == nil) {
		return fmt.Errorf("job %q needs either a function or steps", j.Name)
	}
	for _, e := range s.entries {
		if e.job.Name == j.Name {
			return fmt.Errorf("job %q added twice", j.Name)
		}
	}
	sched, err := cron.ParseStandard(j.Spec)
	if err != nil {
		return fmt.Errorf("job %q: schedule %q: %w", j.Name, j.Spec, err)
	}
	s.entries = append(s.entries, &entry{job: j, sched: sched})
	return nil
}

// Jobs are the names of the jobs, in the order added.
func (s *Scheduler) Jobs() []string {
	names := make([]string, len(s.entries))
	for i, e := range s.entries {
		names[i] = e.job.Name
	}
	return names
}

// Next is when each job fires next after t.
func (s *Scheduler) Next(t time.Time) map[string]time.Time {
	m := make(map[string]time.Time, len(s.entries))
	for _, e := range s.entries {
		m[e.job.Name] = e.sched.Next(t)
	}
	return m
}

// ErrNoJobs is returned by Run for a scheduler without jobs.
var ErrNoJobs = errors.New("no jobs to schedule")

// Run runs the jobs at their times until ctx is cancelled, then waits for the running job to
// finish and returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.entries) == 0 {
		return ErrNoJobs
	}
	now := s.clock.Now()
	for _, e := range s.entries {
		e.next = e.sched.Next(now)
		s.log.Info("scheduled", "job", e.job.Name, "schedule", e.job.Spec, "next", e.next)
	}
	var wg sync.WaitGroup
	for {
		earliest := s.entries[0].next
		for _, e := range s.entries[1:] {
			if e.next.Before(earliest) {
				earliest = e.next
			}
		}
		timer := s.clock.After(earliest.Sub(s.clock.Now()))
		select {
		case <-ctx.Done():
			s.log.Info("stopping: waiting for running jobs")
			wg.Wait()
			s.log.Info("stopped")
			return nil
		case now = <-timer:
		}
		var due []*entry
		for _, e := range s.entries {
			if e.next.After(now) {
				continue
			}
			at := e.next
			e.next = e.sched.Next(now)
			if !e.busy.CompareAndSwap(false, true) {
				s.log.Warn("skipped: still running", "job", e.job.Name, "due", at)
				s.report(Result{Job: e.job.Name, Status: StatusSkipped, Due: at, Started: now})
				continue
			}
			due = append(due, e)
		}
		if len(due) == 0 {
			continue
		}
		wg.Add(1)
		go func(due []*entry, at time.Time) {
			defer wg.Done()
			for _, e := range due {
				s.turn.Lock()
				if ctx.Err() == nil {
					s.runEntry(ctx, e, at)
				} else {
					e.busy.Store(false)
				}
				s.turn.Unlock()
			}
		}(due, now)
	}
}

// RunDue runs, in order and one at a time, every job whose schedule fired in (last[job], now];
// a job without an entry in last is run. It stops starting jobs once ctx is cancelled.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time, last map[string]time.Time) []Result {
	var results []Result
	for _, e := range s.entries {
		if ctx.Err() != nil {
			break
		}
		if l, ok := last[e.job.Name]; ok && e.sched.Next(l).After(now) {
			continue
		}
		if !e.busy.CompareAndSwap(false, true) {
			r := Result{Job: e.job.Name, Status: StatusSkipped, Due: now, Started: now}
			s.log.Warn("skipped: still running", "job", e.job.Name)
			s.report(r)
			results = append(results, r)
			continue
		}
		s.turn.Lock()
		results = append(results, s.runEntry(ctx, e, now))
		s.turn.Unlock()
	}
	return results
}

// RunOnce runs every job once, in order: RunDue without history.
func (s *Scheduler) RunOnce(ctx context.Context) []Result {
	return s.RunDue(ctx, s.clock.Now(), nil)
}

// runEntry runs a job with ctx and marks it idle. A pipeline starts no step once ctx is
// done: the step in flight stops at its own safe point, the rest do not run.
func (s *Scheduler) runEntry(ctx context.Context, e *entry, due time.Time) Result {
	r := Result{Job: e.job.Name, Due: due, Started: s.clock.Now()}
	s.log.Info("job started", "job", e.job.Name)
	var err error
	if e.job.Run != nil {
		err = e.job.Run(ctx)
	} else {
		r.Steps, err = s.runSteps(ctx, e.job.Name, e.job.Steps())
	}
	r.Duration = s.clock.Now().Sub(r.Started)
	r.Seconds = r.Duration.Seconds()
	if err != nil {
		r.Status, r.Err, r.Error = StatusError, err, err.Error()
		s.log.Error("job failed", "job", e.job.Name, "seconds", r.Seconds, "error", err)
	} else {
		r.Status = StatusOK
		s.log.Info("job finished", "job", e.job.Name, "seconds", r.Seconds)
	}
	// Idle before the report: a firing that comes while the result is being handled is not
	// an overlap, and skipping it would lose a run.
	e.busy.Store(false)
	s.report(r)
	return r
}

func (s *Scheduler) report(r Result) {
	if s.onResult != nil {
		s.resMu.Lock()
		defer s.resMu.Unlock()
		s.onResult(r)
	}
}

func (s *Scheduler) runSteps(ctx context.Context, job string, steps []Step) ([]StepResult, error) {
	results := make([]StepResult, len(steps))
	var failed error
	for i, st := range steps {
		res := &results[i]
		res.Step = st.Name
		if failed == nil && ctx.Err() != nil {
			failed = fmt.Errorf("stopped before step %d (%s): the scheduler is stopping", i+1, st.Name)
		}
		if failed != nil {
			res.Status = StatusNotRun
			continue
		}
		res.Started = s.clock.Now()
		s.log.Info("step started", "job", job, "step", st.Name)
		detail, err := st.Run(ctx)
		res.Seconds = s.clock.Now().Sub(res.Started).Seconds()
		res.Detail = detail
		if err != nil {
			res.Status, res.Err, res.Error = StatusError, err, err.Error()
			s.log.Error("step failed", "job", job, "step", st.Name, "seconds", res.Seconds, "error", err)
			failed = fmt.Errorf("step %d (%s) failed: %w", i+1, st.Name, err)
			continue
		}
		res.Status = StatusOK
		s.log.Info("step finished", "job", job, "step", st.Name, "seconds", res.Seconds)
	}
	return results, failed
}
