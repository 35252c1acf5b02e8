package schedule

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// trace records what steps ran, in order, across goroutines.
type trace struct {
	mu  sync.Mutex
	ran []string
}

func (tr *trace) step(name string, err error) Step {
	return Step{Name: name, Run: func(context.Context) (any, error) {
		tr.mu.Lock()
		tr.ran = append(tr.ran, name)
		tr.mu.Unlock()
		return name + " detail", err
	}}
}

func (tr *trace) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return strings.Join(tr.ran, " ")
}

func statuses(steps []StepResult) string {
	var out []string
	for _, st := range steps {
		out = append(out, st.Step+"="+st.Status)
	}
	return strings.Join(out, " ")
}

func TestPipelineRunsStepsInOrder(t *testing.T) {
	s, clock, rec, log := setup(t)
	tr := &trace{}
	runs := 0
	if err := s.Add(Job{Name: "hourly", Spec: "0 * * * *", Steps: func() []Step {
		runs++
		return []Step{tr.step("build", nil), tr.step("test", nil), tr.step("sync downstream", nil)}
	}}); err != nil {
		t.Fatal(err)
	}
	cancel, done := start(s)
	clock.waitWaiters(t)
	clock.Set(t0.Add(time.Hour))
	r := rec.next(t)
	cancel()
	<-done
	if got := tr.String(); got != "build test sync downstream" {
		t.Errorf("ran %q", got)
	}
	if r.Job != "hourly" || r.Status != StatusOK || r.Err != nil {
		t.Errorf("result %+v", r)
	}
	if got := statuses(r.Steps); got != "build=ok test=ok sync downstream=ok" {
		t.Errorf("steps %s", got)
	}
	if r.Steps[2].Detail != "sync downstream detail" {
		t.Errorf("detail %v", r.Steps[2].Detail)
	}
	if runs != 1 {
		t.Errorf("Steps called %d times, want once per run", runs)
	}
	for _, want := range []string{`msg="step started" job=hourly step=build`, `msg="step finished" job=hourly step="sync downstream"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

// A failed step ends the run: a sync never sends what a failed build or test left.
func TestPipelineStopsAtFailedStep(t *testing.T) {
	s, _, rec, log := setup(t)
	tr := &trace{}
	s.Add(Job{Name: "hourly", Spec: "@hourly", Steps: func() []Step {
		return []Step{tr.step("build", nil), tr.step("test", errors.New("2 tests failed")), tr.step("sync downstream", nil)}
	}})
	s.Add(Job{Name: "other", Spec: "@hourly", Run: func(context.Context) error { return nil }})
	res := s.RunOnce(context.Background())
	if got := tr.String(); got != "build test" {
		t.Errorf("ran %q", got)
	}
	if len(res) != 2 || res[1].Status != StatusOK {
		t.Fatalf("results %+v: a failed pipeline stops its own steps, not other jobs", res)
	}
	r := res[0]
	if r.Status != StatusError || r.Error != "step 2 (test) failed: 2 tests failed" {
		t.Errorf("result %s: %s", r.Status, r.Error)
	}
	if got := statuses(r.Steps); got != "build=ok test=error sync downstream=not_run" {
		t.Errorf("steps %s", got)
	}
	if r.Steps[1].Error != "2 tests failed" || !r.Steps[2].Started.IsZero() {
		t.Errorf("steps %+v", r.Steps)
	}
	if rr := rec.next(t); rr.Job != "hourly" || len(rr.Steps) != 3 {
		t.Errorf("reported %+v", rr)
	}
	if !strings.Contains(log.String(), `msg="step failed" job=hourly step=test`) {
		t.Errorf("log:\n%s", log)
	}
}

// A pipeline due again while its last run is still going skips that firing.
func TestPipelineNoOverlap(t *testing.T) {
	s, clock, rec, _ := setup(t)
	started, release := make(chan struct{}, 10), make(chan struct{})
	var mu sync.Mutex
	var ran []string
	s.Add(Job{Name: "p", Spec: "* * * * *", Steps: func() []Step {
		return []Step{
			{Name: "build", Run: func(context.Context) (any, error) {
				started <- struct{}{}
				<-release
				mu.Lock()
				ran = append(ran, "build")
				mu.Unlock()
				return nil, nil
			}},
			{Name: "sync", Run: func(context.Context) (any, error) {
				mu.Lock()
				ran = append(ran, "sync")
				mu.Unlock()
				return nil, nil
			}},
		}
	}})
	cancel, done := start(s)
	clock.waitWaiters(t)
	clock.Set(t0.Add(time.Minute))
	<-started
	clock.waitWaiters(t)
	clock.Set(t0.Add(2 * time.Minute))
	if r := rec.next(t); r.Status != StatusSkipped || r.Job != "p" {
		t.Errorf("second firing: %+v, want skipped", r)
	}
	close(release)
	if r := rec.next(t); r.Status != StatusOK || statuses(r.Steps) != "build=ok sync=ok" {
		t.Errorf("first run: %+v", r)
	}
	cancel()
	<-done
	if got := strings.Join(ran, " "); got != "build sync" {
		t.Errorf("ran %q, want one run", got)
	}
}

// Stopping the scheduler lets the step in flight finish and starts no other.
func TestPipelineGracefulStop(t *testing.T) {
	s, clock, rec, _ := setup(t)
	started, release := make(chan struct{}), make(chan struct{})
	tr := &trace{}
	s.Add(Job{Name: "p", Spec: "@every 1m", Steps: func() []Step {
		return []Step{
			{Name: "build", Run: func(ctx context.Context) (any, error) {
				close(started)
				<-release
				if ctx.Err() == nil {
					t.Error("the running step's context was not cancelled by the stop")
				}
				return nil, nil // what it had in flight, it finished
			}},
			tr.step("sync", nil),
		}
	}})
	cancel, done := start(s)
	clock.waitWaiters(t)
	clock.Set(t0.Add(time.Minute))
	<-started
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	r := rec.next(t)
	if got := statuses(r.Steps); got != "build=ok sync=not_run" {
		t.Errorf("steps %s, want the running step's own outcome and no step after it", got)
	}
	if r.Status != StatusError || !strings.Contains(r.Error, "stopped before step 2 (sync)") {
		t.Errorf("result %s: %s", r.Status, r.Error)
	}
	if tr.String() != "" {
		t.Errorf("ran %q after the stop", tr)
	}
}

func TestPipelineJobNeedsStepsOrRun(t *testing.T) {
	s := New(Options{})
	if err := s.Add(Job{Name: "x", Spec: "@hourly"}); err == nil {
		t.Error("a job with neither a function nor steps was accepted")
	}
	both := Job{Name: "y", Spec: "@hourly", Run: func(context.Context) error { return nil }, Steps: func() []Step { return nil }}
	if err := s.Add(both); err == nil {
		t.Error("a job with both a function and steps was accepted")
	}
}
