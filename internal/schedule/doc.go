// Package schedule runs named jobs on cron schedules: the syncs and the pipelines of a project,
// driven by `cdp schedule`. It knows nothing of SQL or warehouses; a job is a function, or a
// pipeline of steps that are functions.
//
// Schedules are parsed with robfig/cron/v3's standard parser (5 fields, minute hour
// day-of-month month day-of-week, or descriptors such as @hourly and @every 30m).
//
// Guarantees:
//   - A job never overlaps itself: when it is due again while still running (or waiting to
//     run), that firing is skipped and logged.
//   - Jobs take turns: at most one job runs at a time, in the order they were added, so jobs
//     sharing a single-writer warehouse never race for its lock.
//   - Run blocks until its context is cancelled, then starts no more jobs and waits for the
//     running one to return (a graceful stop). The running job's context is cancelled with
//     Run's: jobs stop at their next safe point (a sync once the batches in flight are
//     acknowledged and committed, a build with its tables' last complete versions), so a stop
//     does not wait for the rest of a long sync.
//   - A pipeline runs its steps in order and stops at the first that fails: the rest are
//     reported as not run and the job's error names the failed step. Once the scheduler is
//     stopping, a pipeline starts no other step.
//   - RunDue runs, once and in order, every job whose schedule fired in (last run, now]; a
//     job without a last run is simply run. It is what `cdp schedule --once` uses.
//
// The clock is injectable (Options.Clock) so tests drive time by hand.
package schedule
