package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/generate"
	"github.com/cdp-dev/cdp/internal/progress"
)

func NewCmdGenerate(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate sample data",
	}
	cmd.AddCommand(newCmdGenerateEvents(app))
	return cmd
}

func newCmdGenerateEvents(app *App) *cobra.Command {
	opts := generate.Options{}
	var end string
	cmd := &cobra.Command{
		Use:   "events --out DIR",
		Short: "Write realistic Segment-spec events for a synthetic shop",
		Long: `Write NDJSON Segment-spec events for --persons synthetic shoppers: anonymous browsing on
several browsers, logins, sign-ups, aliases, mobile screens, orders, consent, and the noise real
data has (shared browsers, placeholder ids and emails, phones in many formats, a few malformed
lines and client retries). The same --seed always writes the same bytes. truth.csv records the
real person behind every event, for scoring identity resolution.`,
		Example: "  cdp generate events --persons 10000 --seed 1 --out data",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usagef("--out DIR is required")
			}
			if opts.Persons <= 0 {
				return usagef("--persons must be positive")
			}
			if end != "" {
				t, err := time.Parse(time.RFC3339, end)
				if err != nil {
					t, err = time.Parse("2006-01-02", end)
				}
				if err != nil {
					return usagef("--end %q: want a date like 2026-11-01 or an RFC 3339 time", end)
				}
				opts.End = t
			}
			bar := progress.New(app.Progress(), "persons", int64(opts.Persons), progress.Count)
			opts.Progress = func(n int) { bar.Set(int64(n)) }
			start := time.Now()
			sum, err := generate.Events(cmd.Context(), opts)
			bar.Finish()
			if err != nil {
				return err
			}
			if app.JSON {
				return app.PrintJSON(sum)
			}
			app.Human("Wrote %s events for %s persons to %s in %.1fs (%d file(s), %s deliberately bad lines, %s retried duplicates; truth in %s)\n",
				progress.Thousands(int64(sum.Events)), progress.Thousands(int64(sum.Persons)), opts.Out, time.Since(start).Seconds(),
				len(sum.Files), progress.Thousands(int64(sum.Bad)), progress.Thousands(int64(sum.Duplicates)), sum.TruthFile)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Persons, "persons", 1000, "number of synthetic people")
	f.Int64Var(&opts.Seed, "seed", 1, "random seed; the same seed writes the same files")
	f.StringVarP(&opts.Out, "out", "o", "", "output directory")
	f.StringVar(&end, "end", "", "events fall in the --days before this date (default 2026-11-01)")
	f.IntVar(&opts.Days, "days", 90, "days of history")
	f.BoolVar(&opts.Gzip, "gzip", false, "write .ndjson.gz files")
	f.IntVar(&opts.FileEvents, "file-events", 1_000_000, "most events per file")
	f.Float64Var(&opts.BadRate, "bad-rate", 0.001, "share of deliberately malformed lines")
	f.Float64Var(&opts.DuplicateRate, "duplicate-rate", 0.002, "share of events re-sent with the same messageId")
	return cmd
}
