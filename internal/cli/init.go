package cli

import (
	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/config"
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
			// An empty name lets scaffold derive a valid one from the folder ("2026 shop" -> "_2026_shop").
			files, err := scaffold.Write(opts.Dir, opts.Name)
			if err != nil {
				return err
			}
			name := opts.Name
			if p, err := config.Load(opts.Dir); err == nil {
				name = p.Name
			}
			if app.JSON {
				return app.PrintJSON(map[string]any{"dir": opts.Dir, "name": name, "files": files})
			}
			app.Human("Created project %q in %s:\n", name, opts.Dir)
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
