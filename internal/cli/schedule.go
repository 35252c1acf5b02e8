package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/load"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/schedule"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/sync"
	"github.com/cdp-dev/cdp/internal/syncdef"
)

// ScheduleOptions is `cdp schedule`.
type ScheduleOptions struct {
	Once          bool
	All           bool
	BuildSchedule string
}

// NewCmdSchedule is `cdp schedule`: run the project's pipelines and scheduled syncs on cron.
func NewCmdSchedule(app *App) *cobra.Command {
	opts := &ScheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule [--once] [--build-schedule CRON]",
		Short: "Run the pipelines of cdp.yaml and the syncs that have a schedule at their times",
		Long: `Run, until stopped, every pipeline under pipelines: in cdp.yaml and every sync in
syncs/*.yml that has a schedule:, each at its times. A pipeline runs its steps in order, each
exactly as the command it names (cdp build, cdp run models, cdp test, cdp load, cdp sync run),
and stops at the first step that fails, so a sync never sends a model that failed to build or
failed its tests. "sync: downstream" runs the syncs of the models the pipeline's earlier build
and run steps selected.

Jobs take turns and a job never overlaps itself: a job still running when it is due again
skips that time (and says so in the log). Each step opens the warehouse only while it runs.
Ctrl-C (SIGINT) or SIGTERM starts no more jobs or steps and stops the running one at its next
safe point: a sync once its batches in flight are answered and committed (the next run sends
the rest), a build by cancelling its statements (each table keeps its last complete version).

Every run is logged on stderr and recorded in the warehouse table _cdp.schedule_runs (job,
kind, status, started_at, seconds, error, and a pipeline's steps as JSON).

--build-schedule CRON is a shorthand for a pipeline named build whose only step is build.
With --once, the jobs that are due run once, in order, and the command exits: 1 if any
failed. A job is due when it never ran, or when its schedule fired since its last run started
(from _cdp.schedule_runs), so a host without a long-running process can call
"cdp schedule --once" from its own cron every few minutes. --once --all runs every job.
With --json, one summary object per job run is printed on stdout, one a line, with the
outcome of each step of a pipeline.`,
		Example: `  cdp schedule
  cdp schedule --once --json
  cdp schedule --once --all
  cdp schedule --build-schedule "0 * * * *"`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All && !opts.Once {
				return usagef("--all goes with --once: it runs every job now, due or not")
			}
			return runSchedule(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Once, "once", false, "run the jobs that are due now, once, then exit")
	cmd.Flags().BoolVar(&opts.All, "all", false, "with --once: run every job, due or not")
	cmd.Flags().StringVar(&opts.BuildSchedule, "build-schedule", "", `also run cdp build on this cron schedule, e.g. "0 * * * *" (a pipeline named build)`)
	cmd.AddCommand(NewCmdScheduleHistory(app))
	return cmd
}

// ScheduleHistoryOptions is `cdp schedule history`.
type ScheduleHistoryOptions struct {
	Job   string
	Limit int
}

// NewCmdScheduleHistory is `cdp schedule history`: the scheduler's log, newest first.
func NewCmdScheduleHistory(app *App) *cobra.Command {
	opts := &ScheduleHistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history [JOB]",
		Short: "Show past runs of the scheduler's jobs (pipelines and syncs), newest first",
		Long: `Show the runs cdp schedule recorded in _cdp.schedule_runs, newest first: each pipeline
and scheduled sync run, and each firing skipped because the job was still running. With --json,
every run with its steps.`,
		Example: `  cdp schedule history
  cdp schedule history hourly --limit 5 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one job name (usage: %s)", cmd.CommandPath(), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Job = args[0]
			}
			if opts.Limit < 0 {
				return usagef("--limit must be 0 (all) or more, got %d", opts.Limit)
			}
			return runScheduleHistory(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "most runs shown; 0 for all")
	return cmd
}

// scheduleHistoryRun is one run in `cdp schedule history --json`: the log's row with its steps
// as JSON rather than text.
type scheduleHistoryRun struct {
	state.ScheduleRun
	Steps json.RawMessage `json:"steps,omitempty"`
}

func runScheduleHistory(ctx context.Context, app *App, opts *ScheduleHistoryOptions) error {
	proj, err := app.Project()
	if err != nil {
		return err
	}
	wh, _, err := app.OpenWarehouse(ctx, proj, "cdp schedule history")
	if err != nil {
		return err
	}
	defer wh.Close()
	all, err := state.ScheduleRunHistory(ctx, wh)
	if err != nil {
		return err
	}
	runs := []scheduleHistoryRun{}
	for i := len(all) - 1; i >= 0 && (opts.Limit == 0 || len(runs) < opts.Limit); i-- {
		if opts.Job == "" || all[i].Job == opts.Job {
			r := scheduleHistoryRun{ScheduleRun: all[i]}
			if r.ScheduleRun.Steps != "" {
				r.Steps = json.RawMessage(r.ScheduleRun.Steps)
			}
			runs = append(runs, r)
		}
	}
	if app.JSON {
		return app.PrintJSON(runs)
	}
	if app.Quiet {
		return nil
	}
	if len(runs) == 0 {
		if opts.Job != "" {
			app.Human("Job %s has not run yet.\n", opts.Job)
		} else {
			app.Human("cdp schedule has not run a job yet.\n")
		}
		return nil
	}
	tw := tabwriter.NewWriter(app.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tJOB\tKIND\tSTATUS\tSTEPS\tSECONDS\tERROR")
	for _, r := range runs {
		msg := strings.ReplaceAll(r.Error, "\n", " ")
		if len(msg) > 100 {
			msg = msg[:97] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n", r.StartedAt.UTC().Format("2006-01-02 15:04:05"), r.Job, r.Kind, r.Status,
			stepSummary(r.Steps), r.Seconds, msg)
	}
	return tw.Flush()
}

// stepSummary is "2/3 ok" for a pipeline run's steps, "" for a sync's.
func stepSummary(steps json.RawMessage) string {
	var ss []struct {
		Status string `json:"status"`
	}
	if len(steps) == 0 || json.Unmarshal(steps, &ss) != nil || len(ss) == 0 {
		return ""
	}
	ok := 0
	for _, s := range ss {
		if s.Status == schedule.StatusOK {
			ok++
		}
	}
	return fmt.Sprintf("%d/%d ok", ok, len(ss))
}

// statusNotDue is the --json status of a job --once did not run: its schedule has not fired
// since it last ran (started_at).
const statusNotDue = "not_due"

// Job kinds, in --json and the schedule log.
const (
	jobSync     = "sync"
	jobPipeline = "pipeline"
)

// scheduleRun is the --json summary of one job run.
type scheduleRun struct {
	Job       string         `json:"job"`
	Kind      string         `json:"kind"` // sync or pipeline
	Status    string         `json:"status"`
	StartedAt time.Time      `json:"started_at"`
	Seconds   float64        `json:"seconds"`
	Error     string         `json:"error,omitempty"`
	NextAt    *time.Time     `json:"next_at,omitempty"` // --once: when a job that is not due is due
	Sync      *sync.Result   `json:"sync,omitempty"`
	Steps     []scheduleStep `json:"steps,omitempty"`
}

// scheduleStep is the outcome of one step of a pipeline run.
type scheduleStep struct {
	Step      string          `json:"step"`
	Kind      string          `json:"kind"` // build, run, test, load or sync
	Status    string          `json:"status"`
	StartedAt *time.Time      `json:"started_at,omitempty"` // unset for a step that did not run
	Seconds   float64         `json:"seconds"`
	Error     string          `json:"error,omitempty"`
	Counts    *run.Counts     `json:"counts,omitempty"` // build, run, test: nodes by status
	Load      *loadStepResult `json:"load,omitempty"`
	Syncs     []state.SyncRun `json:"syncs,omitempty"` // sync: one per sync run, in order
}

// loadStepResult is the part of a load summary a schedule report needs.
type loadStepResult struct {
	Files       int   `json:"files"`
	FilesLoaded int   `json:"files_loaded"`
	Loaded      int64 `json:"loaded"`
	Duplicates  int64 `json:"duplicates"`
	Quarantined int64 `json:"quarantined"`
}

// stepDetail is what a pipeline step hands back to its report through schedule.StepResult.
type stepDetail struct {
	kind   string
	counts *run.Counts
	load   *loadStepResult
	syncs  []state.SyncRun
}

func runSchedule(ctx context.Context, app *App, opts *ScheduleOptions) error {
	sp, err := loadSyncs(app)
	if err != nil {
		return err
	}
	pipelines := sp.proj.Pipelines
	if opts.BuildSchedule != "" {
		if _, err := cron.ParseStandard(opts.BuildSchedule); err != nil {
			return usagef("--build-schedule %q: %v", opts.BuildSchedule, err)
		}
		for _, pl := range pipelines {
			if pl.Name == "build" {
				return usagef("--build-schedule adds a pipeline named build, and %s already has one (%s); add a build step to it instead", "cdp.yaml", pl.Pos)
			}
		}
		build := &config.Pipeline{Name: "build", Schedule: opts.BuildSchedule, Steps: []config.Step{{Kind: config.StepBuild}}}
		pipelines = append([]*config.Pipeline{build}, pipelines...)
	}
	if err := checkPipelines(pipelines, sp.defs); err != nil {
		return err
	}

	var out gosync.Mutex // jobs take turns, but skipped firings report from the loop
	logger := schedule.NewLogger(app.Progress())
	kinds := map[string]string{}
	syncResults := map[string]*sync.Result{}
	rec := &scheduleRecorder{app: app, proj: sp.proj, log: logger}
	var failed bool
	enc := json.NewEncoder(app.Out)
	s := schedule.New(schedule.Options{
		Logger: logger,
		OnResult: func(r schedule.Result) {
			out.Lock()
			defer out.Unlock()
			if r.Status == schedule.StatusError {
				failed = true
			}
			sr := scheduleRun{Job: r.Job, Kind: kinds[r.Job], Status: r.Status, StartedAt: r.Started, Seconds: r.Seconds,
				Error: r.Error, Sync: syncResults[r.Job], Steps: scheduleSteps(r.Steps)}
			delete(syncResults, r.Job)
			// A skipped firing may come while a job holds the warehouse: it is recorded with
			// the next run instead.
			rec.add(ctx, sr, r.Status != schedule.StatusSkipped)
			if app.JSON {
				enc.Encode(sr)
			}
		},
	})

	// Pipelines go first: when a pipeline and a sync are due together, the sync then sends
	// what the pipeline built.
	for _, pl := range pipelines {
		kinds[pl.Name] = jobPipeline
		if err := s.Add(schedule.Job{Name: pl.Name, Spec: pl.Schedule, Steps: func() []schedule.Step {
			return pipelineSteps(app, sp, pl)
		}}); err != nil {
			return err
		}
	}
	for _, def := range sp.defs {
		if def.Schedule == "" {
			continue
		}
		kinds[def.Name] = jobSync
		if err := s.Add(schedule.Job{Name: def.Name, Spec: def.Schedule, Run: func(ctx context.Context) error {
			wh, t, err := app.OpenWarehouse(ctx, sp.proj, "cdp schedule: sync "+def.Name)
			if err != nil {
				return err
			}
			defer wh.Close()
			res, err := runOneSync(ctx, app, wh, t, def, sync.NewRunID(time.Now()), false)
			out.Lock()
			syncResults[def.Name] = res
			out.Unlock()
			if res != nil && !app.JSON && !app.Quiet {
				sync.FormatResult(app.Out, res)
			}
			return withReviewHint(err, def.Name, "run cdp sync run "+def.Name+" --force")
		}}); err != nil {
			return err
		}
	}
	if len(s.Jobs()) == 0 {
		msg := fmt.Sprintf("nothing to schedule: cdp.yaml has no pipelines: and no sync in %s/ has a schedule:", strings.Join(sp.proj.SyncPaths, ", "))
		if opts.Once {
			app.Human("Nothing to run: %s.\n", msg)
			return nil
		}
		return errors.New(msg)
	}
	if opts.Once {
		now := time.Now()
		var last map[string]time.Time
		if !opts.All {
			if last, err = lastScheduleRuns(ctx, app, sp.proj); err != nil {
				return err
			}
		}
		results := s.RunDue(ctx, now, last)
		ran := map[string]bool{}
		for _, r := range results {
			ran[r.Job] = true
		}
		next := s.Next(now)
		for _, job := range s.Jobs() {
			if ran[job] {
				continue
			}
			if app.JSON {
				at, nextAt := last[job], next[job]
				enc.Encode(scheduleRun{Job: job, Kind: kinds[job], Status: statusNotDue, StartedAt: at, NextAt: &nextAt})
			} else {
				app.Human("%s is not due: it last ran at %s; next at %s (--all runs it now).\n", job,
					last[job].Local().Format(time.DateTime), next[job].Local().Format(time.DateTime))
			}
		}
		for _, r := range results {
			if r.Err != nil && !app.Quiet {
				fmt.Fprintf(app.Err, "Error: %s: %v\n", r.Job, r.Err)
			}
		}
		rec.flush(context.WithoutCancel(ctx))
		if failed || ctx.Err() != nil {
			return &silentError{code: ExitFailure}
		}
		return nil
	}
	app.Human("Scheduling %s; stop with Ctrl-C.\n", strings.Join(s.Jobs(), ", "))
	err = s.Run(ctx)
	rec.flush(context.WithoutCancel(ctx))
	return err
}

// lastScheduleRuns is when each job last started, from the schedule log: skipped firings do
// not count, failed runs do (as with cron, a failed job runs again at its next time, not at
// once).
func lastScheduleRuns(ctx context.Context, app *App, proj *config.Project) (map[string]time.Time, error) {
	wh, _, err := app.OpenWarehouse(ctx, proj, "cdp schedule --once")
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	runs, err := state.ScheduleRunHistory(ctx, wh)
	if err != nil {
		return nil, err
	}
	last := map[string]time.Time{}
	for _, r := range runs {
		if r.Status != schedule.StatusSkipped && r.StartedAt.After(last[r.Job]) {
			last[r.Job] = r.StartedAt
		}
	}
	return last, nil
}

// checkPipelines checks what cdp.yaml alone cannot: that the syncs a pipeline names exist, and
// that no pipeline has a sync's name (both are jobs, named by name in the log and --json).
// Every problem is reported at once, at its line in cdp.yaml.
func checkPipelines(pipelines []*config.Pipeline, defs []*syncdef.Def) error {
	byName := map[string]*syncdef.Def{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	var errs config.Errors
	add := func(pos config.Pos, format string, args ...any) {
		errs = append(errs, &config.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	for _, pl := range pipelines {
		if d, ok := byName[pl.Name]; ok {
			add(pl.Pos, "pipeline %q has the name of the sync at %s; rename one, since cdp schedule names its jobs by name", pl.Name, d.Pos)
		}
		for _, st := range pl.Steps {
			if st.Kind != config.StepSync {
				continue
			}
			for _, name := range st.Syncs {
				if _, err := syncdef.Lookup(defs, name); err != nil {
					add(st.Pos, "pipeline %q: %v", pl.Name, err)
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// pipelineRun is what the steps of one pipeline run share.
type pipelineRun struct {
	app *App // stdout kept for the schedule's own --json: steps print as with --quiet then
	sp  *syncProject
	pl  *config.Pipeline
	// models are the relations (schema.name) of the models that earlier build and run steps
	// built or found up to date: `sync: downstream` runs their syncs.
	models map[string]bool
}

func pipelineSteps(app *App, sp *syncProject, pl *config.Pipeline) []schedule.Step {
	papp := *app
	if app.JSON {
		papp.JSON, papp.Quiet = false, true
	}
	pr := &pipelineRun{app: &papp, sp: sp, pl: pl, models: map[string]bool{}}
	steps := make([]schedule.Step, len(pl.Steps))
	for i, st := range pl.Steps {
		steps[i] = schedule.Step{Name: st.String(), Run: func(ctx context.Context) (any, error) {
			d := &stepDetail{kind: st.Kind}
			var err error
			switch st.Kind {
			case config.StepBuild, config.StepRun, config.StepTest:
				err = pr.nodes(ctx, st, d)
			case config.StepLoad:
				err = pr.load(ctx, st, d)
			case config.StepSync:
				err = pr.syncs(ctx, st, d)
			default:
				err = fmt.Errorf("unknown step %q", st.Kind) // config rejects these
			}
			return d, err
		}}
	}
	return steps
}

func (pr *pipelineRun) holder(st config.Step) string {
	return fmt.Sprintf("cdp schedule: %s: %s", pr.pl.Name, st)
}

// nodes runs a build, run or test step as its command does, minus the command's own --json.
func (pr *pipelineRun) nodes(ctx context.Context, st config.Step, d *stepDetail) error {
	app := pr.app
	o := &ModelOptions{Select: st.Select, Exclude: st.Exclude, FullRefresh: st.FullRefresh}
	kinds := map[string][]string{
		config.StepBuild: {compile.KindSeed, compile.KindModel, compile.KindTest},
		config.StepRun:   {compile.KindModel},
		config.StepTest:  {compile.KindTest},
	}[st.Kind]
	s, err := openSession(ctx, app, o, pr.holder(st))
	if err != nil {
		return err
	}
	defer s.Close()
	nodes, err := s.selectNodes(o, kinds...)
	if err != nil {
		return err
	}
	d.counts = &run.Counts{}
	if len(nodes) == 0 {
		app.Human("Nothing to run: the selection of %s has nothing to %s.\n", st, st.Kind)
		return nil
	}
	sum, err := s.runner(app, o).Run(ctx, nodes, nil)
	if sum != nil {
		d.counts = &sum.Counts
		app.Human("\n%s\n", run.FormatSummary(sum))
		for _, r := range sum.Results {
			if r.Kind == compile.KindModel && (r.Status == run.StatusSuccess || r.Status == run.StatusSkippedUnchanged) {
				pr.models[strings.ToLower(r.Relation)] = true
			}
		}
	}
	if err != nil {
		return err
	}
	if !sum.OK() {
		c := sum.Counts
		return fmt.Errorf("%d error(s), %d failed test(s), %d node(s) skipped because of them", c.Error, c.Fail, c.SkippedUpstreamFailed)
	}
	return nil
}

// load runs a load step as cdp load does. Paths with nothing in them are not an error here:
// a scheduled load of an incoming/ folder that is empty has simply nothing to do.
func (pr *pipelineRun) load(ctx context.Context, st config.Step, d *stepDetail) error {
	app := pr.app
	src, err := pr.sp.proj.Source(st.Source)
	if err != nil {
		return err
	}
	var files []string
	for _, p := range st.Paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(pr.sp.proj.Dir, filepath.FromSlash(p))
		}
		found, err := load.ExpandPaths(src.Format, []string{p})
		if err != nil {
			if info, statErr := os.Stat(p); (statErr == nil && info.IsDir()) || strings.ContainsAny(p, "*?[") {
				continue // an empty folder, or a glob that matches nothing yet
			}
			return err
		}
		files = append(files, found...)
	}
	d.load = &loadStepResult{}
	if len(files) == 0 {
		app.Human("Nothing to load: no %s files in %s.\n", src.Format, strings.Join(st.Paths, ", "))
		return nil
	}
	sum, runErr := loadFiles(ctx, app, pr.sp.proj, pr.holder(st), src, files)
	if sum != nil {
		d.load = &loadStepResult{Files: sum.Files, FilesLoaded: sum.FilesLoaded, Loaded: sum.Loaded, Duplicates: sum.Duplicates, Quarantined: sum.Quarantined}
		printLoadSummary(app, sum)
	}
	if runErr != nil {
		return fmt.Errorf("load %s: %w", st.Source, runErr)
	}
	return nil
}

// syncs runs a sync step as cdp sync run does: every sync, even after one fails, and the
// step fails if any did.
func (pr *pipelineRun) syncs(ctx context.Context, st config.Step, d *stepDetail) error {
	app := pr.app
	wh, t, err := app.OpenWarehouse(ctx, pr.sp.proj, pr.holder(st))
	if err != nil {
		return err
	}
	defer wh.Close()
	var defs []*syncdef.Def
	if st.Downstream {
		for _, def := range pr.sp.defs {
			if pr.models[strings.ToLower(modelRelation(def, t).String())] {
				defs = append(defs, def)
			}
		}
		if len(defs) == 0 {
			app.Human("Nothing to sync: no sync sends a model that the earlier steps built.\n")
		}
	} else {
		for _, name := range st.Syncs {
			def, err := syncdef.Lookup(pr.sp.defs, name)
			if err != nil {
				return err // checked at start; the sync files may have changed since
			}
			defs = append(defs, def)
		}
	}
	d.syncs = []state.SyncRun{}
	runID := sync.NewRunID(time.Now())
	var failed []string
	for _, def := range defs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res, err := runOneSync(ctx, app, wh, t, def, runID, false)
		if res != nil {
			d.syncs = append(d.syncs, res.SyncRun)
			if !app.Quiet {
				sync.FormatResult(app.Out, res)
			}
		}
		if err != nil {
			failed = append(failed, withReviewHint(err, def.Name, "run cdp sync run "+def.Name+" --force").Error())
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

func scheduleSteps(results []schedule.StepResult) []scheduleStep {
	if results == nil {
		return nil
	}
	out := make([]scheduleStep, len(results))
	for i, r := range results {
		st := scheduleStep{Step: r.Step, Status: r.Status, Seconds: r.Seconds, Error: r.Error}
		st.Kind, _, _ = strings.Cut(r.Step, " ")
		if !r.Started.IsZero() {
			started := r.Started
			st.StartedAt = &started
		}
		if d, ok := r.Detail.(*stepDetail); ok {
			st.Kind, st.Counts, st.Load, st.Syncs = d.kind, d.counts, d.load, d.syncs
		}
		out[i] = st
	}
	return out
}

// scheduleRecorder writes job runs to _cdp.schedule_runs. It opens the warehouse only between
// jobs, and a run it cannot record is a warning: the log must never stop the schedule.
type scheduleRecorder struct {
	app     *App
	proj    *config.Project
	log     *slog.Logger
	pending []state.ScheduleRun
}

// add queues a run and, when now is set (no job holds the warehouse), writes the queue.
func (r *scheduleRecorder) add(ctx context.Context, sr scheduleRun, now bool) {
	row := state.ScheduleRun{Job: sr.Job, Kind: sr.Kind, Status: sr.Status, StartedAt: sr.StartedAt, Seconds: sr.Seconds, Error: sr.Error}
	if sr.Steps != nil {
		b, _ := json.Marshal(sr.Steps) // plain data: always marshals
		row.Steps = string(b)
	}
	r.pending = append(r.pending, row)
	if now {
		r.flush(context.WithoutCancel(ctx))
	}
}

func (r *scheduleRecorder) flush(ctx context.Context) {
	if len(r.pending) == 0 {
		return
	}
	wh, _, err := r.app.OpenWarehouse(ctx, r.proj, "cdp schedule: log")
	if err == nil {
		defer wh.Close()
		err = state.EnsureSchedule(ctx, wh)
	}
	if err == nil {
		d := wh.Dialect()
		stmts := make([]string, len(r.pending))
		for i, row := range r.pending {
			stmts[i] = state.InsertScheduleRun(d, row)
		}
		err = wh.ExecAtomic(ctx, stmts...)
	}
	if err != nil {
		r.log.Warn("runs not recorded in "+state.ScheduleRuns.String(), "runs", len(r.pending), "error", err)
		if len(r.pending) < 1000 {
			return // kept for the next try
		}
	}
	r.pending = nil
}
