package cli

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// SQLOptions is `cdp sql QUERY`.
type SQLOptions struct {
	Query  string
	Format string // table, csv, json
	Limit  int    // table format only: rows kept for column alignment
}

func NewCmdSQL(app *App, runF func(context.Context, *SQLOptions) error) *cobra.Command {
	opts := &SQLOptions{}
	cmd := &cobra.Command{
		Use:   "sql QUERY",
		Short: "Run ad-hoc SQL on the target warehouse",
		Long: `Run one SQL statement on the target warehouse and print its rows.

--format table (default) aligns columns and shows at most --limit rows; csv (with a header) and
json stream every row, whatever the size. --json is the same as --format json.`,
		Example: `  cdp sql "select type, count(*) from raw.events group by 1"
  cdp sql "select * from raw.events_quarantine" --format csv > bad.csv`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Query = args[0]
			if app.JSON {
				if cmd.Flags().Changed("format") && opts.Format != "json" {
					return usagef("--json and --format %s disagree; pass one of them", opts.Format)
				}
				opts.Format = "json"
			}
			switch opts.Format {
			case "table", "csv", "json":
			default:
				return usagef("--format must be table, csv or json, not %q", opts.Format)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSQL(cmd.Context(), app, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Format, "format", "f", "table", "output format: table, csv or json")
	cmd.Flags().IntVar(&opts.Limit, "limit", 1000, "most rows the table format shows")
	return cmd
}

func runSQL(ctx context.Context, app *App, opts *SQLOptions) error {
	proj, err := app.Project()
	if err != nil {
		return err
	}
	wh, _, err := app.OpenWarehouse(ctx, proj, "cdp sql")
	if err != nil {
		return err
	}
	defer wh.Close()
	rows, err := wh.Query(ctx, opts.Query)
	if err != nil {
		return fmt.Errorf("query failed: %w", err)
	}
	defer rows.Close()
	switch opts.Format {
	case "csv":
		err = writeCSV(app.Out, rows)
	case "json":
		err = writeJSON(app.Out, rows)
	default:
		err = writeTable(app, rows, opts.Limit)
	}
	if err != nil {
		return err
	}
	return rows.Err()
}

func columnNames(rows warehouse.Rows) []string {
	cols := rows.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return names
}

func writeCSV(w io.Writer, rows warehouse.Rows) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columnNames(rows)); err != nil {
		return err
	}
	rec := make([]string, len(rows.Columns()))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			if v == nil {
				rec[i] = ""
			} else {
				rec[i] = formatValue(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON streams a JSON array of objects, one row per line, so any size fits in memory.
func writeJSON(w io.Writer, rows warehouse.Rows) error {
	names := columnNames(rows)
	keys := make([][]byte, len(names))
	for i, n := range names {
		keys[i], _ = json.Marshal(n)
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	first := true
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		var b strings.Builder
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString("\n  {")
		for i, v := range vals {
			if i > 0 {
				b.WriteString(", ")
			}
			b.Write(keys[i])
			b.WriteString(": ")
			enc, err := json.Marshal(jsonValue(v))
			if err != nil {
				return fmt.Errorf("column %s: %w", names[i], err)
			}
			b.Write(enc)
		}
		b.WriteString("}")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	if first {
		_, err := io.WriteString(w, "]\n")
		return err
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

func writeTable(app *App, rows warehouse.Rows, limit int) error {
	tw := tabwriter.NewWriter(app.Out, 0, 0, 2, ' ', 0)
	names := columnNames(rows)
	fmt.Fprintln(tw, strings.Join(names, "\t"))
	seps := make([]string, len(names))
	for i, n := range names {
		seps[i] = strings.Repeat("-", max(len(n), 3))
	}
	fmt.Fprintln(tw, strings.Join(seps, "\t"))
	shown, more := 0, false
	cells := make([]string, len(names))
	for rows.Next() {
		if shown == limit {
			more = true
			break
		}
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		for i, v := range vals {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = strings.NewReplacer("\t", " ", "\n", "\\n").Replace(formatValue(v))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
		shown++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if more {
		fmt.Fprintf(app.Err, "(showing the first %d rows; raise --limit or use --format csv for all)\n", limit)
	} else if !app.Quiet {
		fmt.Fprintf(app.Err, "(%d row%s)\n", shown, plural(shown))
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// formatValue renders a value for table and CSV cells.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return "\\x" + fmt.Sprintf("%X", x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	case *big.Int:
		return x.String()
	case map[string]any, []any:
		b, err := json.Marshal(jsonValue(x))
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

// jsonValue makes a value JSON-friendly: bytes as base64 strings, big ints as numbers, times in
// RFC 3339, nested values recursively.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *big.Int:
		return json.Number(x.String())
	case json.Number:
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case fmt.Stringer:
		return x.String()
	}
	return v
}
