package run

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// listRelations returns the tables and views of the given schemas as lower-case "schema.name"
// -> "table" or "view", in one query per run rather than one Columns call per model (which
// costs a few milliseconds each on DuckDB and would dominate a run where nothing changed).
//
// information_schema.tables is standard SQL (DuckDB, PostgreSQL, Snowflake); BigQuery keeps it
// per dataset, so its engine will need its own spelling of this query.
func listRelations(ctx context.Context, wh warehouse.Warehouse, schemas []string) (map[string]string, error) {
	out := map[string]string{}
	lower := make([]string, 0, len(schemas))
	for _, s := range schemas {
		if s == "" {
			s = "main"
		}
		lower = append(lower, strings.ToLower(s))
	}
	slices.Sort(lower)
	lower = slices.Compact(lower)
	if len(lower) == 0 {
		return out, nil
	}
	d := wh.Dialect()
	lits := make([]string, len(lower))
	for i, s := range lower {
		lits[i] = d.QuoteString(s)
	}
	rows, err := wh.Query(ctx, fmt.Sprintf(`SELECT table_schema, table_name, table_type FROM information_schema.tables
		WHERE table_catalog = current_database() AND lower(table_schema) IN (%s)`, strings.Join(lits, ", ")))
	if err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var schema, name, typ string
		if err := rows.Scan(&schema, &name, &typ); err != nil {
			return nil, fmt.Errorf("list relations: %w", err)
		}
		kind := "table"
		if strings.Contains(strings.ToUpper(typ), "VIEW") {
			kind = "view"
		}
		out[strings.ToLower(schema+"."+name)] = kind
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list relations: %w", err)
	}
	return out, nil
}

func catalogKey(rel warehouse.Relation) string {
	schema := rel.Schema
	if schema == "" {
		schema = "main"
	}
	return strings.ToLower(schema + "." + rel.Name)
}

// kind returns "table", "view" or "" (does not exist) for rel, as of the run's start and its
// own changes since.
func (e *execution) kind(rel warehouse.Relation) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.catalog[catalogKey(rel)]
}

func (e *execution) setKind(rel warehouse.Relation, kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if kind == "" {
		delete(e.catalog, catalogKey(rel))
	} else {
		e.catalog[catalogKey(rel)] = kind
	}
}

// ensureSchema creates rel's schema once per run, if the catalog did not already show it.
func (e *execution) ensureSchema(ctx context.Context, rel warehouse.Relation) error {
	schema := rel.Schema
	if schema == "" {
		return nil
	}
	key := strings.ToLower(schema)
	e.mu.Lock()
	defer e.mu.Unlock() // held while creating: concurrent CREATE SCHEMA can conflict
	if e.schemas[key] {
		return nil
	}
	if err := e.wh.Exec(ctx, e.d.CreateSchema(schema)); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	e.schemas[key] = true
	return nil
}

// drop renders the statement that drops rel according to what it is now ("" when it does not
// exist).
func (e *execution) drop(rel warehouse.Relation, kind string) string {
	switch kind {
	case "table":
		return "DROP TABLE IF EXISTS " + e.d.Relation(rel)
	case "view":
		return "DROP VIEW IF EXISTS " + e.d.Relation(rel)
	}
	return ""
}

func tmpRelation(rel warehouse.Relation) warehouse.Relation {
	return warehouse.Relation{Schema: rel.Schema, Name: rel.Name + "__cdp_tmp"}
}
