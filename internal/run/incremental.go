package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// incremental builds the new rows (IncrementalSQL, where is_incremental() is true) into the tmp
// table and applies them to the target in one transaction. The first build, a full refresh, or
// a target that is not a table goes through the table path with the full SQL.
func (b *builder) incremental(ctx context.Context) error {
	e, n, d := b.e, b.n, b.e.d
	if e.r.FullRefresh || e.kind(n.Relation) != "table" || strings.TrimSpace(n.IncrementalSQL) == "" {
		return b.table(ctx, n.SQL)
	}
	strategy := n.Config.IncrementalStrategy
	if strategy == "" {
		strategy = "append"
		if len(n.Config.UniqueKey) > 0 {
			strategy = "merge"
		}
	}
	switch strategy {
	case "append", "merge", "delete+insert":
	default:
		return fmt.Errorf("incremental_strategy %q is not supported (use append, merge or delete+insert)", strategy)
	}
	if strategy != "append" && len(n.Config.UniqueKey) == 0 {
		return fmt.Errorf("incremental_strategy %s needs a unique_key", strategy)
	}
	onChange := n.Config.OnSchemaChange
	if onChange == "" {
		onChange = "ignore"
	}
	switch onChange {
	case "ignore", "fail", "append_new_columns":
	default:
		return fmt.Errorf("on_schema_change %q is not supported (use ignore, fail or append_new_columns)", onChange)
	}

	tmp := tmpRelation(n.Relation)
	if err := b.createTmp(ctx, tmp, n.IncrementalSQL); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			b.dropTmp(tmp)
		}
	}()
	newCols, err := e.wh.Columns(ctx, tmp)
	if err != nil {
		return err
	}
	if n.Config.ContractEnforced {
		if err := checkContract(n, newCols); err != nil {
			return err
		}
	}
	oldCols, err := e.wh.Columns(ctx, n.Relation)
	if err != nil {
		return err
	}
	added, removed := schemaDiff(oldCols, newCols)

	var stmts []string
	insertCols := commonColumns(oldCols, newCols)
	switch onChange {
	case "fail":
		if len(added) > 0 || len(removed) > 0 {
			return fmt.Errorf("the columns changed (%s) and on_schema_change is fail: run with --full-refresh to rebuild the table, or set on_schema_change to append_new_columns",
				describeSchemaChange(added, removed))
		}
	case "append_new_columns":
		for _, c := range added {
			stmts = append(stmts, "ALTER TABLE "+d.Relation(n.Relation)+" ADD COLUMN "+d.QuoteIdent(c.Name)+" "+c.Type)
			insertCols = append(insertCols, c.Name)
		}
	}
	var notes []string
	if len(added) > 0 && onChange == "ignore" {
		notes = append(notes, "new columns ignored: "+columnNames(added))
	}
	if len(removed) > 0 {
		notes = append(notes, "missing columns left NULL: "+columnNames(removed))
	}
	if len(added) > 0 && onChange == "append_new_columns" {
		notes = append(notes, "added columns: "+columnNames(added))
	}

	if len(insertCols) == 0 {
		return fmt.Errorf("the new rows share no column with %s: run with --full-refresh", n.Relation)
	}
	if strategy != "append" {
		keys := n.Config.UniqueKey
		for _, k := range keys {
			if !hasColumn(newCols, k) {
				return fmt.Errorf("unique_key column %q is not a column of the model (columns: %s)", k, columnNames(newCols))
			}
			if !hasColumn(oldCols, k) {
				return fmt.Errorf("unique_key column %q is not a column of %s: run with --full-refresh", k, n.Relation)
			}
		}
		nulls, err := countRows(ctx, e.wh, d.Relation(tmp)+" WHERE "+anyNull(d, keys))
		if err != nil {
			return err
		}
		if nulls > 0 {
			return fmt.Errorf("%d new rows have a NULL unique_key (%s): a NULL key matches no row, so they would pile up as duplicates; filter them out or coalesce the key",
				nulls, strings.Join(keys, ", "))
		}
		var match []string
		for _, k := range keys {
			match = append(match, "cdp_new."+d.QuoteIdent(k)+" = cdp_target."+d.QuoteIdent(k))
		}
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s AS cdp_target WHERE EXISTS (SELECT 1 FROM %s AS cdp_new WHERE %s)",
			d.Relation(n.Relation), d.Relation(tmp), strings.Join(match, " AND ")))
	}
	rows, err := countRows(ctx, e.wh, d.Relation(tmp))
	if err != nil {
		return err
	}
	quoted := make([]string, len(insertCols))
	for i, c := range insertCols {
		quoted[i] = d.QuoteIdent(c)
	}
	list := strings.Join(quoted, ", ")
	stmts = append(stmts,
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", d.Relation(n.Relation), list, list, d.Relation(tmp)),
		"DROP TABLE "+d.Relation(tmp))
	b.res.Rows = rows
	b.dataUnchanged = rows == 0 && !slices.ContainsFunc(stmts, func(s string) bool { return strings.HasPrefix(s, "ALTER ") })
	if err := b.commit(ctx, stmts, "table"); err != nil {
		return err
	}
	committed = true
	e.setKind(tmp, "")
	msg := fmt.Sprintf("inserted %d rows (%s", rows, strategy)
	if strategy != "append" {
		msg += " on " + strings.Join(n.Config.UniqueKey, ", ")
	}
	msg += ")"
	for _, note := range notes {
		msg += "; " + note
	}
	b.res.Message = msg
	return nil
}

// schemaDiff returns the columns only in the new rows and those only in the target.
func schemaDiff(old, new []warehouse.Column) (added, removed []warehouse.Column) {
	for _, c := range new {
		if !hasColumn(old, c.Name) {
			added = append(added, c)
		}
	}
	for _, c := range old {
		if !hasColumn(new, c.Name) {
			removed = append(removed, c)
		}
	}
	return added, removed
}

// commonColumns returns the target's columns that the new rows also have, in the target's order.
func commonColumns(old, new []warehouse.Column) []string {
	var out []string
	for _, c := range old {
		if hasColumn(new, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

func hasColumn(cols []warehouse.Column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

func columnNames(cols []warehouse.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func describeSchemaChange(added, removed []warehouse.Column) string {
	var parts []string
	for _, c := range added {
		parts = append(parts, fmt.Sprintf("new column %s %s", c.Name, c.Type))
	}
	for _, c := range removed {
		parts = append(parts, fmt.Sprintf("removed column %s", c.Name))
	}
	return strings.Join(parts, ", ")
}

func anyNull(d warehouse.Dialect, cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = d.QuoteIdent(c) + " IS NULL"
	}
	return strings.Join(parts, " OR ")
}
