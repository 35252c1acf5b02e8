package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// table is the target table's definition as last read from the catalog.
type table struct {
	cols map[string]*column // by exact name
	key  *column
}

// ensureTable returns the table's definition with a column for each of names, creating the
// table or adding columns as needed (types: the type each would get as a new column).
func (d *Dest) ensureTable(ctx context.Context, pool *pgxpool.Pool, names []string, types map[string]string) (*table, error) {
	d.schemaMu.Lock()
	defer d.schemaMu.Unlock()
	if d.tbl == nil {
		t, err := d.readTable(ctx, pool)
		if err != nil {
			return nil, err
		}
		if t == nil {
			if err := d.createTable(ctx, pool, names, types); err != nil {
				return nil, err
			}
			if t, err = d.readTable(ctx, pool); err != nil {
				return nil, err
			}
			if t == nil {
				return nil, fmt.Errorf("postgres: created table %s, but it is not visible to user %q: check the schema's USAGE privilege (GRANT USAGE ON SCHEMA %s TO %s)",
					d.tableName(), d.cfg.pool.ConnConfig.User, pgx.Identifier{d.cfg.Schema}.Sanitize(), pgx.Identifier{d.cfg.pool.ConnConfig.User}.Sanitize())
			}
		}
		d.tbl = t
	}
	var missing []string
	for _, n := range names {
		if d.tbl.cols[n] == nil {
			missing = append(missing, n)
		}
	}
	if d.tbl.cols[SyncedAtColumn] == nil {
		missing = append(missing, SyncedAtColumn)
	}
	if len(missing) == 0 {
		return d.tbl, nil
	}
	var adds []string
	for _, n := range missing {
		typ := newType(types[n])
		if n == SyncedAtColumn {
			typ = "timestamptz"
		}
		adds = append(adds, "ADD COLUMN IF NOT EXISTS "+pgx.Identifier{n}.Sanitize()+" "+typ)
	}
	sql := "ALTER TABLE " + d.tableName() + " " + strings.Join(adds, ", ")
	if _, err := pool.Exec(ctx, sql); err != nil {
		d.tbl = nil // read it again next time: someone else may have changed it
		return nil, d.fail(ctx, phaseAlter+" "+strings.Join(missing, ", ")+" ("+sql+")", err)
	}
	t, err := d.readTable(ctx, pool)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("postgres: table %s disappeared while cdp added columns to it", d.tableName())
	}
	d.tbl = t
	return t, nil
}

// readTable reads the table's columns from the catalog; nil when there is no such table.
func (d *Dest) readTable(ctx context.Context, pool *pgxpool.Pool) (*table, error) {
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", d.tableName()).Scan(&exists); err != nil {
		return nil, d.fail(ctx, "look up table "+d.tableName(), err)
	}
	if !exists {
		return nil, nil
	}
	rows, err := pool.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL)
		FROM pg_catalog.pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, d.tableName())
	if err != nil {
		return nil, d.fail(ctx, "read the columns of "+d.tableName(), err)
	}
	t := &table{cols: map[string]*column{}}
	for rows.Next() {
		c := &column{}
		if err := rows.Scan(&c.name, &c.typ, &c.base); err != nil {
			rows.Close()
			return nil, d.fail(ctx, "read the columns of "+d.tableName(), err)
		}
		c.table = d.tableName()
		c.classify()
		t.cols[c.name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail(ctx, "read the columns of "+d.tableName(), err)
	}
	t.key = t.cols[d.cfg.KeyColumn]
	if t.key == nil {
		return nil, fmt.Errorf("postgres: table %s has no column %q to hold the rows' keys: set key_column to the column that holds the sync's primary key, or add one: ALTER TABLE %s ADD COLUMN %s text PRIMARY KEY",
			d.tableName(), d.cfg.KeyColumn, d.tableName(), pgx.Identifier{d.cfg.KeyColumn}.Sanitize())
	}
	return t, nil
}

func (d *Dest) createTable(ctx context.Context, pool *pgxpool.Pool, names []string, types map[string]string) error {
	defs := []string{pgx.Identifier{d.cfg.KeyColumn}.Sanitize() + " text PRIMARY KEY"}
	for _, n := range names {
		defs = append(defs, pgx.Identifier{n}.Sanitize()+" "+newType(types[n]))
	}
	defs = append(defs, pgx.Identifier{SyncedAtColumn}.Sanitize()+" timestamptz NOT NULL DEFAULT now()")
	sql := "CREATE TABLE IF NOT EXISTS " + d.tableName() + " (" + strings.Join(defs, ", ") + ")"
	if _, err := pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%w (the statement: %s)", d.fail(ctx, phaseCreate, err), sql)
	}
	return nil
}

// newType is the type of a new column from its values' type: a column that only saw NULLs is
// text, which holds whatever comes later.
func newType(t string) string {
	if t == "" {
		return "text"
	}
	return t
}
