package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/identity"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// IdentityExplainOptions is `cdp identity explain IDENTIFIER`.
type IdentityExplainOptions struct {
	Identifier string
	Type       string // "" means every identifier type
	Model      string // identity model: NAME in the target's schema, or SCHEMA.NAME
}

// NewCmdIdentity is `cdp identity`, the commands that inspect identity models.
func NewCmdIdentity(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity",
		Short: "Inspect identity resolution",
		Long: `Inspect the identity graph that a model with materialized='identity' builds: its map of
identifiers to profiles (<model>), the links that joined them (<model>_edges), the values and
links it refused (<model>_dropped_links), merges and splits (<model>_changes) and per-run
metrics (<model>_metrics).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdIdentityExplain(app, nil))
	return cmd
}

// NewCmdIdentityExplain is `cdp identity explain IDENTIFIER`; runF replaces the behaviour in
// flag tests.
func NewCmdIdentityExplain(app *App, runF func(context.Context, *IdentityExplainOptions) error) *cobra.Command {
	opts := &IdentityExplainOptions{}
	cmd := &cobra.Command{
		Use:   "explain IDENTIFIER",
		Short: "Show which profile an identifier belongs to, and why",
		Long: `Look an identifier up in an identity model and show its profile: every identifier of the
profile with when it was first and last seen, the events that linked them, and the links that
were refused (blocked or invalid values, limits, bridges, max_group_size) and why.

The identifier is normalized with the model's rules first, so " Jane@Example.COM " finds
jane@example.com and "(415) 555-0134" finds +14155550134. Without --type every identifier type
is tried.`,
		Example: `  cdp identity explain jane@example.com
  cdp identity explain usr_123 --type user_id --json
  cdp identity explain "(415) 555-0134" --model analytics.identity_map`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Identifier = args[0]
			if strings.TrimSpace(opts.Identifier) == "" {
				return usagef("the identifier is empty")
			}
			if opts.Model == "" || strings.Count(opts.Model, ".") > 1 {
				return usagef("--model must be NAME or SCHEMA.NAME, got %q", opts.Model)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runIdentityExplain(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Type, "type", "", "identifier type (user_id, email, phone, ...); default: every type")
	cmd.Flags().StringVar(&opts.Model, "model", "identity_map", "identity model: NAME in the target's schema, or SCHEMA.NAME")
	return cmd
}

func runIdentityExplain(ctx context.Context, app *App, opts *IdentityExplainOptions) error {
	proj, err := app.Project()
	if err != nil {
		return err
	}
	wh, target, err := app.OpenWarehouse(ctx, proj, "cdp identity explain")
	if err != nil {
		return err
	}
	defer wh.Close()
	rel := warehouse.Relation{Schema: "main", Name: opts.Model}
	if target.Type == "bigquery" {
		rel.Schema = target.Dataset
	}
	if schema, name, ok := strings.Cut(opts.Model, "."); ok {
		rel = warehouse.Relation{Schema: schema, Name: name}
	}
	ex, err := identity.Explain(ctx, wh, rel, opts.Identifier, opts.Type)
	if err != nil {
		return err
	}
	if app.JSON {
		return app.PrintJSON(ex)
	}
	if !app.Quiet {
		writeExplanation(app.Out, ex)
	}
	if len(ex.Profiles) == 0 {
		return &silentError{code: ExitFailure}
	}
	return nil
}

// writeExplanation renders an explanation for people.
func writeExplanation(w io.Writer, ex *identity.Explanation) {
	what := fmt.Sprintf("%q", ex.Input)
	if ex.Type != "" {
		what = ex.Type + " " + what
	}
	if len(ex.Profiles) == 0 {
		fmt.Fprintf(w, "%s is in no profile of %s.\n", what, ex.Model)
		for _, l := range ex.Dropped {
			fmt.Fprintf(w, "  as %s %q it was refused: %s (first in event %s, %s)\n", l.Type, l.Value, refusal(l.Reason), l.EventID, countOf(l.Events, "event"))
		}
		if len(ex.Dropped) == 0 {
			fmt.Fprintln(w, "  It was never seen (or not as this type); check the spelling or --type.")
		}
		return
	}
	for i, p := range ex.Profiles {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var as []string
		for _, m := range ex.Matches {
			as = append(as, m.Type+" "+m.Value)
		}
		fmt.Fprintf(w, "%s (%s) is in profile %s of %s: %d identifiers, %d links, %d refused.\n\n",
			what, strings.Join(as, ", "), p.ID, ex.Model, len(p.Identifiers), len(p.Links), len(p.Refused))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "IDENTIFIER\tTYPE\tFIRST SEEN\tLAST SEEN")
		for _, id := range p.Identifiers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id.Value, id.Type, stamp(id.FirstSeen), stamp(id.LastSeen))
		}
		tw.Flush()
		if len(p.Links) > 0 {
			fmt.Fprintln(w, "\nLinked by")
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, l := range p.Links {
				fmt.Fprintf(tw, "  %s %s\t— %s %s\tfirst in event %s at %s\t%s\n", l.Type, l.Value, l.OtherType, l.OtherValue, l.EventID, stamp(l.FirstSeen), countOf(l.Events, "event"))
			}
			tw.Flush()
		}
		if len(p.Refused) > 0 {
			fmt.Fprintln(w, "\nRefused")
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, l := range p.Refused {
				other := "(value itself)"
				if l.OtherType != "" {
					other = "— " + l.OtherType + " " + l.OtherValue
				}
				fmt.Fprintf(tw, "  %s %s\t%s\t%s\tfirst in event %s\t%s\n", l.Type, l.Value, other, refusal(l.Reason), l.EventID, countOf(l.Events, "event"))
			}
			tw.Flush()
		}
	}
}

func refusal(reason string) string {
	switch reason {
	case "limit":
		return "limit: would put more identifiers of a type in one profile than allowed"
	case "bridge":
		return "bridge: would join two profiles that each have a higher-priority identifier"
	case "max_group_size":
		return "max_group_size: linked to implausibly many identifiers"
	case "blocked":
		return "blocked: a placeholder value"
	case "invalid":
		return "invalid: does not normalize to a valid identifier"
	}
	return reason
}

func countOf(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
