package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/scaffold"
)

type initOptions struct {
	Dir  string
	Name string
}

func NewCmdInit(app *App) *cobra.Command {
	opts := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a new cdp project in DIR",
		Long: `Create a working project: cdp.yaml with an embedded DuckDB target, a Segment-spec source
named "events" with its data contract, and the models/, syncs/ and seeds/ folders.`,
		Example: "  cdp init shop && cd shop && cdp load events path/to/events.ndjson",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if opts.Name == "" {
				abs, err := filepath.Abs(opts.Dir)
				if err != nil {
					return err
				}
				opts.Name = filepath.Base(abs)
			}
			files, err := scaffold.Write(opts.Dir, opts.Name)
			if err != nil {
				return err
			}
			if app.JSON {
				return app.PrintJSON(map[string]any{"dir": opts.Dir, "name": opts.Name, "files": files})
			}
			app.Human("Created project %q in %s:\n", opts.Name, opts.Dir)
			for _, f := range files {
				app.Human("  %s\n", f)
			}
			app.Human("\nNext:\n  cd %s\n  cdp generate events --persons 1000 --out data\n  cdp load events data\n  cdp sql \"select type, count(*) from raw.events group by 1\"\n", opts.Dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "project name (default: the directory's name)")
	return cmd
}
