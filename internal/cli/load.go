package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/load"
	"github.com/cdp-dev/cdp/internal/progress"
)

// LoadOptions is `cdp load SOURCE PATH...`.
type LoadOptions struct {
	Source string
	Paths  []string
}

// NewCmdLoad builds `cdp load`; runF replaces the behaviour in flag-parsing tests.
func NewCmdLoad(app *App, runF func(context.Context, *LoadOptions) error) *cobra.Command {
	opts := &LoadOptions{}
	cmd := &cobra.Command{
		Use:   "load SOURCE PATH...",
		Short: "Load raw files into a source's raw table, enforcing its data contract",
		Long: `Load NDJSON (Segment-spec events or any JSON lines), CSV or Parquet files, gzip'd or not,
into the raw table of a source declared in cdp.yaml or models/*.yml (raw.SOURCE by default).

PATH may be a file, a directory (searched recursively for the source's format) or a glob.
Each file is loaded in one transaction. Rows that break the contract go to
SOURCE_quarantine with the reason, file, line and original text. A file loaded before (same
content) is skipped and a messageId seen before is dropped as a duplicate, so re-running a load,
even one that was killed half-way, is always safe.`,
		Example: `  cdp load events data/
  cdp load events 'exports/2026-11-*.ndjson.gz'
  cdp load orders orders.csv --json`,
		Args: minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source, opts.Paths = args[0], args[1:]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLoad(cmd.Context(), app, opts)
		},
	}
	return cmd
}

func runLoad(ctx context.Context, app *App, opts *LoadOptions) error {
	proj, err := app.Project()
	if err != nil {
		return err
	}
	src, err := proj.Source(opts.Source)
	if err != nil {
		return err
	}
	files, err := load.ExpandPaths(src.Format, opts.Paths)
	if err != nil {
		return usagef("%v", err)
	}
	sum, runErr := loadFiles(ctx, app, proj, "cdp load "+opts.Source, src, files)
	if sum == nil {
		return runErr
	}
	if app.JSON {
		if err := app.PrintJSON(sum); err != nil {
			return err
		}
	} else {
		printLoadSummary(app, sum)
	}
	if runErr != nil {
		return fmt.Errorf("load %s: %w", opts.Source, runErr)
	}
	return nil
}

// loadFiles loads files into src with progress, holding the warehouse only while it runs. The
// summary is nil when the load could not start (the error says why).
func loadFiles(ctx context.Context, app *App, proj *config.Project, holder string, src *config.Source, files []string) (*load.Summary, error) {
	wh, _, err := app.OpenWarehouse(ctx, proj, holder)
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	rep := &loadReporter{app: app}
	sum, err := load.Run(ctx, wh, load.Options{Source: src, Files: files, Reporter: rep})
	rep.finish()
	return sum, err
}

func printLoadSummary(app *App, s *load.Summary) {
	n := progress.Thousands
	app.Human("Loaded %s of %d file(s) into %s in %.1fs (%s rows/s)\n", n(int64(s.FilesLoaded)), s.Files, s.Relation, s.Seconds, n(int64(s.RowsPerSecond)))
	app.Human("  rows read    %12s\n", n(s.Rows))
	app.Human("  loaded       %12s\n", n(s.Loaded))
	app.Human("  duplicates   %12s  (messageId seen before)\n", n(s.Duplicates))
	if s.Quarantined > 0 {
		app.Human("  quarantined  %12s  -> %s\n", n(s.Quarantined), s.Quarantine)
		for _, r := range load.SortedReasons(s.ByReason) {
			app.Human("    %-26s %8s\n", r, n(s.ByReason[r]))
		}
	} else {
		app.Human("  quarantined  %12s\n", "0")
	}
	if s.FilesSkipped > 0 {
		app.Human("  skipped %d file(s) already loaded\n", s.FilesSkipped)
	}
	if s.FilesFailed > 0 {
		app.Human("  FAILED %d file(s); see the errors below\n", s.FilesFailed)
	}
}

// loadReporter renders load progress: a byte-based bar and one line per finished file.
type loadReporter struct {
	app   *App
	bar   *progress.Bar
	base  int64 // bytes of finished files
	files int
	index int
}

func (r *loadReporter) Start(files int, bytes int64) {
	r.files = files
	r.bar = progress.New(r.app.Progress(), "", bytes, progress.Bytes)
}

func (r *loadReporter) FileStarted(path string, size int64) {
	r.index++
	r.bar.SetLabel(fmt.Sprintf("file %d/%d %s", r.index, r.files, filepath.Base(path)))
}

func (r *loadReporter) Bytes(n int64) { r.bar.Set(r.base + n) }

func (r *loadReporter) FileDone(f load.FileResult) {
	r.base += f.Bytes
	r.bar.Set(r.base)
	if r.app.JSON {
		return
	}
	switch f.Status {
	case "loaded":
		r.bar.Println("loaded  %s: %s rows, %s duplicates, %s quarantined (%.1fs)", displayPath(f.File),
			progress.Thousands(f.Loaded), progress.Thousands(f.Duplicates), progress.Thousands(f.Quarantined), f.Seconds)
	case "skipped":
		r.bar.Println("skipped %s: already loaded as %s", displayPath(f.File), f.AlreadyLoaded)
	default:
		r.bar.Println("failed  %s: %s", displayPath(f.File), f.Error)
	}
}

func (r *loadReporter) finish() {
	if r.bar != nil {
		r.bar.Finish()
	}
}
