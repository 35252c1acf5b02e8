package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
	// Engines register themselves with the warehouse package, materializations with run.
	_ "github.com/cdp-dev/cdp/internal/audience"
	_ "github.com/cdp-dev/cdp/internal/destination/all"
	_ "github.com/cdp-dev/cdp/internal/identity"
	_ "github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

// App is what every command shares: its streams and the global flags.
type App struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	ProjectDir string
	Target     string
	JSON       bool
	Quiet      bool
}

// NewRootCmd builds the cdp command tree.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "cdp",
		Short: "A warehouse-first customer data platform",
		Long: `cdp loads raw events into your warehouse, runs the SQL models that stitch them into
profiles and audiences, and syncs audiences to the tools that act on them.

A project is a directory with a cdp.yaml; start one with "cdp init DIR".`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&app.ProjectDir, "project-dir", ".", "project directory (the one with cdp.yaml)")
	pf.StringVarP(&app.Target, "target", "t", "", "warehouse target from cdp.yaml (default: the project's default target)")
	pf.BoolVar(&app.JSON, "json", false, "print machine-readable JSON on stdout")
	pf.BoolVarP(&app.Quiet, "quiet", "q", false, "print only errors (and --json output)")

	root.AddCommand(
		NewCmdVersion(app),
		NewCmdInit(app),
		NewCmdLoad(app, nil),
		NewCmdSQL(app, nil),
		NewCmdGenerate(app),
		NewCmdCompile(app),
		NewCmdRun(app),
		NewCmdTest(app),
		NewCmdBuild(app),
		NewCmdSeed(app),
		NewCmdSource(app),
		NewCmdIdentity(app),
		NewCmdSync(app),
		NewCmdSchedule(app),
	)
	return root
}

// exactArgs is cobra.ExactArgs reporting a usage error with the command's usage line.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (usage: %s)", cmd.CommandPath(), n, len(args), cmd.UseLine())
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s needs at least %d argument(s) (usage: %s)", cmd.CommandPath(), n, cmd.UseLine())
		}
		return nil
	}
}

// Project reads the project at --project-dir: its cdp.yaml, or for a dbt project without one,
// the configuration derived from dbt_project.yml.
func (a *App) Project() (*config.Project, error) {
	p, err := config.Load(a.ProjectDir)
	if errors.Is(err, config.ErrNoProject) {
		if _, statErr := os.Stat(filepath.Join(a.ProjectDir, "dbt_project.yml")); statErr == nil {
			proj, err := project.Load(a.ProjectDir, nil)
			if err != nil {
				return nil, err
			}
			return proj.Config, nil
		}
	}
	return p, err
}

// OpenWarehouse opens the --target warehouse of a project, holding the single-writer lock until
// closed. holder names the command for whoever finds the warehouse busy.
func (a *App) OpenWarehouse(ctx context.Context, p *config.Project, holder string) (warehouse.Warehouse, *config.Target, error) {
	t, err := p.Target(a.Target)
	if err != nil {
		return nil, nil, err
	}
	wh, err := warehouse.Open(ctx, warehouse.Config{
		Type: t.Type, Path: t.Path, MemoryLimit: t.MemoryLimit, Project: t.Project, Dataset: t.Dataset, Location: t.Location, Holder: holder,
	})
	if err != nil {
		return nil, nil, err
	}
	return wh, t, nil
}

// displayPath shows a path relative to the working directory when that is shorter.
func displayPath(p string) string {
	if rel, err := filepath.Rel(".", p); err == nil && !strings.HasPrefix(rel, "..") && len(rel) < len(p) {
		return rel
	}
	return p
}

// Human writes human output unless --quiet or --json.
func (a *App) Human(format string, args ...any) {
	if a.Quiet || a.JSON {
		return
	}
	fmt.Fprintf(a.Out, format, args...)
}

// Progress is where progress goes: stderr, unless --quiet.
func (a *App) Progress() io.Writer {
	if a.Quiet {
		return io.Discard
	}
	return a.Err
}

// PrintJSON writes v as indented JSON on stdout.
func (a *App) PrintJSON(v any) error {
	enc := json.NewEncoder(a.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
