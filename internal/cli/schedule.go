package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	gosync "sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/schedule"
	"github.com/cdp-dev/cdp/internal/sync"
)

// ScheduleOptions is `cdp schedule`.
type ScheduleOptions struct {
	Once          bool
	BuildSchedule string
}

// NewCmdSchedule is `cdp schedule`: run the project's syncs (and optionally the build) on cron.
func NewCmdSchedule(app *App) *cobra.Command {
	opts := &ScheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule [--once] [--build-schedule CRON]",
		Short: "Run the syncs that have a schedule (and the build) at their times",
		Long: `Run, until stopped, every sync in syncs/*.yml that has a schedule: at its times, exactly as
cdp sync run NAME does. With --build-schedule, cdp build runs on that schedule too, before the
syncs when both are due. Jobs take turns and a job never overlaps itself: a job still running
when it is due again skips that time (and says so in the log). Each job opens the warehouse
only while it runs. Ctrl-C (SIGINT) or SIGTERM stops starting jobs and waits for the running one.

With --once, every scheduled job runs once, in order, and the command exits: 1 if any failed.
With --json, one summary object per job run is printed on stdout, one a line.`,
		Example: `  cdp schedule
  cdp schedule --build-schedule "0 * * * *"
  cdp schedule --once --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSchedule(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Once, "once", false, "run every scheduled job once, then exit")
	cmd.Flags().StringVar(&opts.BuildSchedule, "build-schedule", "", `also run cdp build on this cron schedule, e.g. "0 * * * *"`)
	return cmd
}

// scheduleRun is the --json summary of one job run.
type scheduleRun struct {
	Job       string       `json:"job"`
	Kind      string       `json:"kind"` // sync or build
	Status    string       `json:"status"`
	StartedAt time.Time    `json:"started_at"`
	Seconds   float64      `json:"seconds"`
	Error     string       `json:"error,omitempty"`
	Sync      *sync.Result `json:"sync,omitempty"`
}

func runSchedule(ctx context.Context, app *App, opts *ScheduleOptions) error {
	sp, err := loadSyncs(app)
	if err != nil {
		return err
	}
	var out gosync.Mutex // jobs take turns, but skipped firings report from the loop
	var logW io.Writer = app.Progress()
	kinds := map[string]string{}
	syncResults := map[string]*sync.Result{}
	var failed bool
	enc := json.NewEncoder(app.Out)
	s := schedule.New(schedule.Options{
		Logger: schedule.NewLogger(logW),
		OnResult: func(r schedule.Result) {
			out.Lock()
			defer out.Unlock()
			if r.Status == schedule.StatusError {
				failed = true
			}
			if !app.JSON {
				return
			}
			enc.Encode(scheduleRun{Job: r.Job, Kind: kinds[r.Job], Status: r.Status, StartedAt: r.Started, Seconds: r.Seconds,
				Error: r.Error, Sync: syncResults[r.Job]})
			delete(syncResults, r.Job)
		},
	})

	if opts.BuildSchedule != "" {
		kinds["build"] = "build"
		if err := s.Add(schedule.Job{Name: "build", Spec: opts.BuildSchedule, Run: func(ctx context.Context) error {
			return scheduledBuild(ctx, app)
		}}); err != nil {
			return usagef("--build-schedule: %v", err)
		}
	}
	for _, def := range sp.defs {
		if def.Schedule == "" {
			continue
		}
		def := def
		if _, dup := kinds[def.Name]; dup {
			return fmt.Errorf("sync %q has the name of another job", def.Name)
		}
		kinds[def.Name] = "sync"
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
			var refused *sync.RefusedError
			if errors.As(err, &refused) {
				err = fmt.Errorf("%w\n  review it with: cdp sync plan %s; if it is intended, run cdp sync run %s --force", err, def.Name, def.Name)
			}
			return err
		}}); err != nil {
			return err
		}
	}
	if len(s.Jobs()) == 0 {
		msg := fmt.Sprintf("nothing to schedule: no sync in %s/ has a schedule: and --build-schedule is not set", strings.Join(sp.proj.SyncPaths, ", "))
		if opts.Once {
			app.Human("Nothing to run: %s.\n", msg)
			return nil
		}
		return errors.New(msg)
	}
	if opts.Once {
		for _, r := range s.RunOnce(ctx) {
			if r.Err != nil && !app.Quiet {
				fmt.Fprintf(app.Err, "Error: %s: %v\n", r.Job, r.Err)
			}
		}
		if failed || ctx.Err() != nil {
			return &silentError{code: ExitFailure}
		}
		return nil
	}
	app.Human("Scheduling %s; stop with Ctrl-C.\n", strings.Join(s.Jobs(), ", "))
	return s.Run(ctx)
}

// scheduledBuild runs cdp build with default options, its output as cdp build prints it
// unless --json (the schedule's own summary stands for it then).
func scheduledBuild(ctx context.Context, app *App) error {
	bapp := *app
	if app.JSON {
		bapp.JSON, bapp.Quiet = false, true
	}
	o := &ModelOptions{}
	s, err := openSession(ctx, &bapp, o, "cdp schedule: build")
	if err != nil {
		return err
	}
	defer s.Close()
	nodes, err := s.selectNodes(o, compile.KindSeed, compile.KindModel, compile.KindTest)
	if err != nil {
		return err
	}
	return runNodes(ctx, &bapp, s, o, nodes, "nodes")
}
