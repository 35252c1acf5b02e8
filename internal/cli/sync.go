package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/progress"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/sync"
	"github.com/cdp-dev/cdp/internal/syncdef"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// ExitChanges is `cdp sync plan --detailed-exitcode`'s code for a plan with changes.
const ExitChanges = 2

// SyncPlanOptions is `cdp sync plan NAME`.
type SyncPlanOptions struct {
	Name             string
	DetailedExitCode bool
	Samples          int
}

// SyncRunOptions is `cdp sync run [NAME...|--all]`.
type SyncRunOptions struct {
	Names []string
	All   bool
	Force bool
}

// SyncHistoryOptions is `cdp sync history [NAME]`.
type SyncHistoryOptions struct {
	Name  string
	Limit int
}

// NewCmdSync is `cdp sync`: plan, run, list and history of the project's syncs.
func NewCmdSync(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Send models to destinations: plan, run, list and history of syncs",
		Long: `A sync (syncs/*.yml) sends a model's rows to a destination and keeps it in step: each run
diffs the model against the rows the destination last acknowledged and sends only the adds,
changes and removes. Acknowledged rows are committed batch by batch, so a run that is stopped
or killed loses nothing and the next one picks up where it left off.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		NewCmdSyncPlan(app, nil),
		NewCmdSyncRun(app, nil),
		NewCmdSyncList(app, nil),
		NewCmdSyncHistory(app, nil),
	)
	return cmd
}

// NewCmdSyncPlan is `cdp sync plan NAME`; runF replaces the behaviour in flag tests.
func NewCmdSyncPlan(app *App, runF func(context.Context, *SyncPlanOptions) error) *cobra.Command {
	opts := &SyncPlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan NAME",
		Short: "Show what a sync would send: adds, changes and removes, with samples",
		Long: `Diff the sync's model against the rows its destination acknowledged and show what a run
would send, like a Terraform plan: counts and samples of adds (+), changes (~, with the fields
that changed) and removes (-, with why), the invalid rows it leaves out (NULL or duplicate
keys) and the guards the plan breaks. Nothing is sent and nothing changes.

With --detailed-exitcode the exit code says whether there is anything to send: 0 nothing,
2 changes pending, 1 an error.`,
		Example: `  cdp sync plan vip_to_webhook
  cdp sync plan vip_to_webhook --json
  cdp sync plan vip_to_webhook --detailed-exitcode || echo "changes pending"`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.Samples < 0 {
				return usagef("--samples must be 0 or more, got %d", opts.Samples)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSyncPlan(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 2 when there are changes to send, 0 when none, 1 on error")
	cmd.Flags().IntVar(&opts.Samples, "samples", 5, "sample rows shown per action")
	return cmd
}

// NewCmdSyncRun is `cdp sync run`; runF replaces the behaviour in flag tests.
func NewCmdSyncRun(app *App, runF func(context.Context, *SyncRunOptions) error) *cobra.Command {
	opts := &SyncRunOptions{}
	cmd := &cobra.Command{
		Use:   "run [NAME...] [--all]",
		Short: "Send what changed to each sync's destination",
		Long: `Plan each sync and send its adds, changes and removes to the destination in batches, with
retries (exponential backoff, Retry-After honoured), splitting of failing batches to isolate bad
rows, and the destination's rate and concurrency limits. Each batch's acknowledged rows are
committed to the sync's snapshot before the next is counted, so stopping or killing a run loses
nothing: the next run resends at most the batches that were in flight. Rows the destination
rejects are kept in _cdp.sync_rejections and tried again on the next run.

A run refuses a plan that breaks one of the sync's guards (an empty model, too many removes or
adds); review it with cdp sync plan and pass --force if it is intended. Every run is recorded:
see cdp sync history.`,
		Example: `  cdp sync run vip_to_webhook
  cdp sync run --all --json
  cdp sync run vip_to_webhook --force`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if opts.All == (len(args) > 0) {
				return usagef("name the syncs to run or pass --all, not both (usage: %s)", cmd.UseLine())
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSyncRun(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "run every sync of the project")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "apply plans that break a guard")
	return cmd
}

// NewCmdSyncList is `cdp sync list`; runF replaces the behaviour in flag tests.
func NewCmdSyncList(app *App, runF func(context.Context) error) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the project's syncs with their model, destination, mode, schedule and last run",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context())
			}
			return runSyncList(cmd.Context(), app)
		},
	}
}

// NewCmdSyncHistory is `cdp sync history [NAME]`; runF replaces the behaviour in flag tests.
func NewCmdSyncHistory(app *App, runF func(context.Context, *SyncHistoryOptions) error) *cobra.Command {
	opts := &SyncHistoryOptions{}
	cmd := &cobra.Command{
		Use:   "history [NAME]",
		Short: "Show past sync runs, newest first",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("%s takes at most one sync name (usage: %s)", cmd.CommandPath(), cmd.UseLine())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if opts.Limit < 0 {
				return usagef("--limit must be 0 (all) or more, got %d", opts.Limit)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSyncHistory(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 20, "most runs shown; 0 for all")
	return cmd
}

// syncProject is a project's syncs.
type syncProject struct {
	proj *config.Project
	defs []*syncdef.Def
}

func loadSyncs(app *App) (*syncProject, error) {
	proj, err := app.Project()
	if err != nil {
		return nil, err
	}
	defs, err := syncdef.Load(os.DirFS(proj.Dir), proj.SyncPaths, syncdef.Options{Registry: destination.Default})
	if err != nil {
		return nil, err
	}
	return &syncProject{proj: proj, defs: defs}, nil
}

// modelRelation resolves a sync's model: schema.name as written, or a bare name in the
// target's schema.
func modelRelation(def *syncdef.Def, t *config.Target) warehouse.Relation {
	if schema, name, ok := strings.Cut(def.Model, "."); ok {
		return warehouse.Relation{Schema: schema, Name: name}
	}
	schema := "main"
	if t.Type == "bigquery" {
		schema = t.Dataset
	}
	return warehouse.Relation{Schema: schema, Name: def.Model}
}

func runSyncPlan(ctx context.Context, app *App, opts *SyncPlanOptions) error {
	sp, err := loadSyncs(app)
	if err != nil {
		return err
	}
	def, err := syncdef.Lookup(sp.defs, opts.Name)
	if err != nil {
		return err // exit 1, not the usage code 2 that --detailed-exitcode gives changes
	}
	wh, t, err := app.OpenWarehouse(ctx, sp.proj, "cdp sync plan "+def.Name)
	if err != nil {
		return err
	}
	defer wh.Close()
	samples := opts.Samples
	if samples == 0 {
		samples = -1
	}
	p, err := sync.NewPlan(ctx, wh, def, modelRelation(def, t), sync.PlanOptions{Samples: samples})
	if err != nil {
		return err
	}
	if app.JSON {
		if err := app.PrintJSON(p); err != nil {
			return err
		}
	} else if !app.Quiet {
		sync.FormatPlan(app.Out, p)
	}
	if opts.DetailedExitCode && p.HasChanges() {
		return &silentError{code: ExitChanges}
	}
	return nil
}

func runSyncRun(ctx context.Context, app *App, opts *SyncRunOptions) error {
	sp, err := loadSyncs(app)
	if err != nil {
		return err
	}
	defs := sp.defs
	if !opts.All {
		defs = nil
		for _, name := range opts.Names {
			def, err := syncdef.Lookup(sp.defs, name)
			if err != nil {
				return err
			}
			defs = append(defs, def)
		}
	}
	if len(defs) == 0 {
		if app.JSON {
			return app.PrintJSON([]*sync.Result{})
		}
		app.Human("Nothing to run: the project has no syncs (add one to %s/).\n", strings.Join(sp.proj.SyncPaths, ", "))
		return nil
	}
	holder := "cdp sync run " + strings.Join(opts.Names, " ")
	if opts.All {
		holder = "cdp sync run --all"
	}
	wh, t, err := app.OpenWarehouse(ctx, sp.proj, holder)
	if err != nil {
		return err
	}
	defer wh.Close()

	runID := sync.NewRunID(time.Now())
	results := []*sync.Result{}
	var failed []string
	for _, def := range defs {
		if ctx.Err() != nil {
			break
		}
		res, err := runOneSync(ctx, app, wh, t, def, runID, opts.Force)
		results = append(results, res)
		if !app.JSON && !app.Quiet {
			sync.FormatResult(app.Out, res)
		}
		if err != nil {
			failed = append(failed, def.Name)
			fmt.Fprintln(app.Err, "Error:", withReviewHint(err, def.Name, "run again with --force"))
		}
	}
	if app.JSON {
		if err := app.PrintJSON(results); err != nil {
			return err
		}
	}
	if len(failed) > 0 || ctx.Err() != nil {
		return &silentError{code: ExitFailure}
	}
	return nil
}

// withReviewHint adds to the error of a refused plan how to review it and how to apply it
// anyway (apply: "run again with --force" for the user who ran cdp sync run); other errors are
// returned as they are.
func withReviewHint(err error, name, apply string) error {
	var refused *sync.RefusedError
	if !errors.As(err, &refused) {
		return err
	}
	return fmt.Errorf("%w\n  review it with: cdp sync plan %s; if it is intended, %s", err, name, apply)
}

func runOneSync(ctx context.Context, app *App, wh warehouse.Warehouse, t *config.Target, def *syncdef.Def, runID string, force bool) (*sync.Result, error) {
	id := runID // shared by the syncs of one invocation; (run_id, sync) names a run
	cfg, err := def.Destination.Expand(os.LookupEnv)
	if err != nil {
		return sync.RecordFailure(ctx, wh, def, id, err)
	}
	dest, err := destination.Default.New(def.Destination.Type, cfg)
	if err != nil {
		return sync.RecordFailure(ctx, wh, def, id, fmt.Errorf("destination %q: %w", def.Destination.Type, err))
	}
	var bar *progress.Bar
	var out io.Writer = app.Progress()
	if app.JSON {
		out = io.Discard
	}
	opts := sync.Options{
		Force: force,
		RunID: id,
		OnPlan: func(p *sync.Plan) {
			if p.HasChanges() && (len(p.Guards) == 0 || force) {
				bar = progress.New(out, def.Name, p.Changes.Total(), progress.Count)
			}
		},
		Progress: func(done, total int64) {
			if bar != nil {
				bar.Set(done)
			}
		},
		Logf: func(format string, args ...any) {
			if bar != nil {
				bar.Println(def.Name+": "+format, args...)
			} else {
				fmt.Fprintf(out, def.Name+": "+format+"\n", args...)
			}
		},
	}
	res, err := sync.Run(ctx, wh, def, modelRelation(def, t), dest, opts)
	if bar != nil {
		bar.Finish()
	}
	return res, err
}

// syncListing is one row of cdp sync list.
type syncListing struct {
	Name        string         `json:"name"`
	Model       string         `json:"model"`
	Destination string         `json:"destination"`
	Mode        string         `json:"mode"`
	Schedule    string         `json:"schedule"`
	File        string         `json:"file"`
	LastRun     *state.SyncRun `json:"last_run"`
}

func runSyncList(ctx context.Context, app *App) error {
	sp, err := loadSyncs(app)
	if err != nil {
		return err
	}
	var last map[string]state.SyncRun
	wh, _, err := app.OpenWarehouse(ctx, sp.proj, "cdp sync list")
	if err == nil {
		last, err = state.LastSyncRuns(ctx, wh)
		wh.Close()
	}
	if err != nil && !app.Quiet {
		fmt.Fprintln(app.Err, "warning: last runs unknown:", err)
	}
	list := []syncListing{}
	for _, d := range sp.defs {
		l := syncListing{Name: d.Name, Model: d.Model, Destination: d.Destination.Type, Mode: string(d.Mode), Schedule: d.Schedule, File: d.Pos.String()}
		if r, ok := last[d.Name]; ok {
			l.LastRun = &r
		}
		list = append(list, l)
	}
	if app.JSON {
		return app.PrintJSON(list)
	}
	if app.Quiet {
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintf(app.Out, "No syncs: add one to %s/ (see cdp sync --help).\n", strings.Join(sp.proj.SyncPaths, ", "))
		return nil
	}
	tw := tabwriter.NewWriter(app.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODEL\tDESTINATION\tMODE\tSCHEDULE\tLAST RUN")
	for _, l := range list {
		sched := l.Schedule
		if sched == "" {
			sched = "-"
		}
		lastRun := "never"
		if l.LastRun != nil {
			lastRun = fmt.Sprintf("%s %s", l.LastRun.Status, l.LastRun.StartedAt.UTC().Format("2006-01-02 15:04"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.Model, l.Destination, l.Mode, sched, lastRun)
	}
	return tw.Flush()
}

func runSyncHistory(ctx context.Context, app *App, opts *SyncHistoryOptions) error {
	proj, err := app.Project()
	if err != nil {
		return err
	}
	wh, _, err := app.OpenWarehouse(ctx, proj, "cdp sync history")
	if err != nil {
		return err
	}
	defer wh.Close()
	runs, err := state.SyncRunHistory(ctx, wh, opts.Name, opts.Limit)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []state.SyncRun{}
	}
	if app.JSON {
		return app.PrintJSON(runs)
	}
	if app.Quiet {
		return nil
	}
	if len(runs) == 0 {
		if opts.Name != "" {
			fmt.Fprintf(app.Out, "Sync %s has not run yet.\n", opts.Name)
		} else {
			fmt.Fprintln(app.Out, "No sync has run yet.")
		}
		return nil
	}
	writeSyncHistory(app.Out, runs)
	return nil
}

func writeSyncHistory(w io.Writer, runs []state.SyncRun) {
	n := progress.Thousands
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tSYNC\tSTATUS\tADDED\tCHANGED\tREMOVED\tREJECTED\tRETRIED\tSECONDS\tERROR")
	for _, r := range runs {
		msg := r.Error
		if len(msg) > 100 {
			msg = msg[:97] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n", r.StartedAt.UTC().Format("2006-01-02 15:04:05"), r.Sync, r.Status,
			n(r.Added), n(r.Changed), n(r.Removed), n(r.Rejected), n(r.Retried), r.Seconds, strings.ReplaceAll(msg, "\n", " "))
	}
	tw.Flush()
}
