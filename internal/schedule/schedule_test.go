package schedule

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock only moves when Advance is called.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(t0 time.Time) *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock to t and fires the waiters due by then.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// waitWaiters blocks until someone waits on the clock.
func (c *fakeClock) waitWaiters(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("nobody waits on the clock")
}

// recorder collects results.
type recorder struct {
	mu  sync.Mutex
	res []Result
	ch  chan Result
}

func newRecorder() *recorder { return &recorder{ch: make(chan Result, 100)} }

func (r *recorder) add(res Result) {
	r.mu.Lock()
	r.res = append(r.res, res)
	r.mu.Unlock()
	r.ch <- res
}

func (r *recorder) next(t *testing.T) Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(5 * time.Second):
		t.Fatal("no result")
		return Result{}
	}
}

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*Scheduler, *fakeClock, *recorder, *bytes.Buffer) {
	clock := newFakeClock(t0)
	rec := newRecorder()
	var log bytes.Buffer
	var logMu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return log.Write(p)
	})
	s := New(Options{Clock: clock, Logger: NewLogger(w), OnResult: rec.add})
	return s, clock, rec, &log
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func start(s *Scheduler) (cancel func(), done chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	return cancel, done
}

func TestJobsFireAtTheirTimes(t *testing.T) {
	s, clock, rec, _ := setup(t)
	var mu sync.Mutex
	var fired []string
	job := func(name string) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			fired = append(fired, name+"@"+clock.Now().Format("15:04"))
			mu.Unlock()
			return nil
		}
	}
	if err := s.Add(Job{Name: "quarter", Spec: "*/15 * * * *", Run: job("quarter")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "hourly", Spec: "0 * * * *", Run: job("hourly")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "bad", Spec: "every now and then", Run: job("bad")}); err == nil {
		t.Error("bad spec accepted")
	}
	cancel, done := start(s)
	for _, m := range []int{15, 30, 45, 60} {
		clock.waitWaiters(t)
		clock.Set(t0.Add(time.Duration(m) * time.Minute))
		rec.next(t)
		if m == 60 {
			rec.next(t)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "quarter@10:15 quarter@10:30 quarter@10:45 quarter@11:00 hourly@11:00"
	if got := strings.Join(fired, " "); got != want {
		t.Errorf("fired %s, want %s", got, want)
	}
}

func TestNoOverlap(t *testing.T) {
	s, clock, rec, log := setup(t)
	started, release := make(chan struct{}, 10), make(chan struct{})
	runs := 0
	s.Add(Job{Name: "slow", Spec: "* * * * *", Run: func(context.Context) error {
		runs++
		started <- struct{}{}
		<-release
		return nil
	}})
	cancel, done := start(s)
	clock.waitWaiters(t)
	clock.Set(t0.Add(time.Minute))
	<-started
	clock.waitWaiters(t)
	clock.Set(t0.Add(2 * time.Minute))
	if r := rec.next(t); r.Status != StatusSkipped || r.Job != "slow" {
		t.Errorf("second firing: %+v, want skipped", r)
	}
	close(release)
	if r := rec.next(t); r.Status != StatusOK {
		t.Errorf("first run: %+v", r)
	}
	cancel()
	<-done
	if runs != 1 {
		t.Errorf("%d runs, want 1", runs)
	}
	if !strings.Contains(log.String(), "skipped: still running") {
		t.Errorf("skip not logged:\n%s", log)
	}
}

func TestGracefulStop(t *testing.T) {
	s, clock, rec, log := setup(t)
	started, release := make(chan struct{}), make(chan struct{})
	var jobCtxErr error
	s.Add(Job{Name: "long", Spec: "@every 1m", Run: func(ctx context.Context) error {
		close(started)
		<-release
		jobCtxErr = ctx.Err()
		return nil
	}})
	s.Add(Job{Name: "after", Spec: "@every 1m", Run: func(ctx context.Context) error {
		t.Error("a job started after the stop")
		return nil
	}})
	cancel, done := start(s)
	clock.waitWaiters(t)
	clock.Set(t0.Add(time.Minute))
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a job was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := rec.next(t); r.Job != "long" || r.Status != StatusOK {
		t.Errorf("result %+v", r)
	}
	if !errors.Is(jobCtxErr, context.Canceled) {
		t.Errorf("the running job's context was not cancelled (%v): a long sync would not stop at its next batch", jobCtxErr)
	}
	if !strings.Contains(log.String(), "stopped") {
		t.Errorf("stop not logged:\n%s", log)
	}
}

func TestRunDueAndOnce(t *testing.T) {
	s, _, _, log := setup(t)
	var ran []string
	add := func(name, spec string, err error) {
		s.Add(Job{Name: name, Spec: spec, Run: func(context.Context) error { ran = append(ran, name); return err }})
	}
	add("build", "0 * * * *", nil)
	add("quarter", "*/15 * * * *", errors.New("boom"))
	add("daily", "0 3 * * *", nil)

	now := t0.Add(20 * time.Minute) // 10:20
	last := map[string]time.Time{
		"build":   t0,                       // next 11:00: not due
		"quarter": t0.Add(10 * time.Minute), // 10:15 in (10:10, 10:20]: due
		// daily has no history: due
	}
	res := s.RunDue(context.Background(), now, last)
	if got := strings.Join(ran, " "); got != "quarter daily" {
		t.Errorf("ran %q", got)
	}
	if len(res) != 2 || res[0].Status != StatusError || res[0].Error != "boom" || res[1].Status != StatusOK {
		t.Errorf("results %+v", res)
	}
	if !strings.Contains(log.String(), "job failed") || !strings.Contains(log.String(), "job finished") {
		t.Errorf("log:\n%s", log)
	}

	ran = nil
	s.RunOnce(context.Background())
	if got := strings.Join(ran, " "); got != "build quarter daily" {
		t.Errorf("once ran %q", got)
	}

	ran = nil
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := s.RunOnce(ctx); len(res) != 0 || len(ran) != 0 {
		t.Errorf("cancelled once ran %v", ran)
	}
}
