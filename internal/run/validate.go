package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Problem is one node that does not validate.
type Problem struct {
	ID      string `json:"id"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) Error() string { return p.Path + ": " + p.Message }

// Validator checks a model of a custom materialization in the scratch database, and creates
// there what its readers will see (its relation and any sibling tables), with the columns the
// materialization would give them. relationOf resolves another node's relation.
type Validator func(ctx context.Context, scratch warehouse.Warehouse, dir string, n *compile.Node, relationOf func(nodeID string) (warehouse.Relation, bool)) error

var validators = map[string]Validator{}

// RegisterValidator sets how `cdp compile` checks models of a custom materialization; without
// one, such a model is checked as a view of its SQL.
func RegisterValidator(materialization string, v Validator) {
	customMu.Lock()
	defer customMu.Unlock()
	validators[materialization] = v
}

func validatorFor(n *compile.Node) (Validator, bool) {
	customMu.RLock()
	defer customMu.RUnlock()
	v, ok := validators[materialized(n)]
	return v, ok
}

// SourceColumns gives the columns of a source table that is not in the warehouse yet (a
// loadable source's raw layout, or columns declared with data types); ok false if unknown.
type SourceColumns func(id string) ([]warehouse.Column, bool)

// Validate checks every model and test binds on the engine without building anything, and
// without needing data: in scratch (an empty database of the same engine) it creates each
// source as an empty table with the columns it has in wh (or, not loaded yet, the columns
// SourceColumns knows), then each model, in order, as a view. Unknown columns, type errors
// the binder sees and missing relations are reported per model; a model downstream of an
// invalid one is reported as not checked rather than with a knock-on error.
func Validate(ctx context.Context, wh, scratch warehouse.Warehouse, dir string, nodes []*compile.Node, sources map[string]warehouse.Relation, declared SourceColumns) []Problem {
	d := scratch.Dialect()
	var problems []Problem
	schemas := map[string]bool{}
	ensureSchema := func(s string) error {
		if s == "" || schemas[s] {
			return nil
		}
		schemas[s] = true
		return scratch.Exec(ctx, d.CreateSchema(s))
	}
	// Sources first.
	done := map[string]bool{}
	badSource := map[string]string{}
	for _, n := range nodes {
		for _, id := range n.Sources {
			if done[id] {
				continue
			}
			done[id] = true
			rel, ok := sources[id]
			if !ok {
				parts := strings.SplitN(id, ".", 2)
				rel = warehouse.Relation{Schema: parts[0], Name: parts[len(parts)-1]}
			}
			cols, err := wh.Columns(ctx, rel)
			if errors.Is(err, warehouse.ErrNotFound) {
				var known bool
				cols, known = declared(id)
				if !known {
					badSource[id] = fmt.Sprintf("source %s (table %s) is not in the warehouse and its columns are not declared with data_type; load it (cdp load) or declare its columns", id, rel)
					continue
				}
			} else if err != nil {
				badSource[id] = err.Error()
				continue
			}
			defs := make([]string, len(cols))
			for i, c := range cols {
				defs[i] = d.QuoteIdent(c.Name) + " " + c.Type
			}
			if err := ensureSchema(rel.Schema); err != nil {
				badSource[id] = err.Error()
				continue
			}
			if err := scratch.Exec(ctx, "CREATE TABLE "+d.Relation(rel)+" ("+strings.Join(defs, ", ")+")"); err != nil {
				badSource[id] = fmt.Sprintf("source %s: %v", id, err)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(badSource)) {
		problems = append(problems, Problem{ID: "source." + id, Path: "source " + id, Message: badSource[id]})
	}
	failed := map[string]string{} // node ID -> why it or its parent failed
	for _, n := range nodes {
		path := n.Path
		if path == "" {
			path = n.ID
		}
		fail := func(msg string) {
			failed[n.ID] = msg
			problems = append(problems, Problem{ID: n.ID, Path: path, Message: msg})
		}
		if why := upstreamProblem(n, failed, badSource); why != "" {
			failed[n.ID] = why
			continue
		}
		switch {
		case n.Kind == compile.KindModel && isEphemeral(n):
			// Inlined into its children, which are checked.
		case n.Kind == compile.KindModel, n.Kind == compile.KindSeed:
			if n.Kind == compile.KindSeed {
				// A seed's columns come from its CSV file: an empty table read from it lets its
				// readers be checked before `cdp seed` ever ran.
				if err := ensureSchema(n.Relation.Schema); err != nil {
					fail(err.Error())
					continue
				}
				path := n.Path
				if n.Seed != nil {
					path = n.Seed.Path
				}
				if !filepath.IsAbs(path) {
					path = filepath.Join(dir, path)
				}
				sel, err := seedSelectSQL(scratch.Dialect(), n, path)
				if err == nil {
					err = scratch.Exec(ctx, "CREATE TABLE "+d.Relation(n.Relation)+" AS "+sel+" LIMIT 0")
				}
				if err != nil {
					fail(err.Error())
				}
				continue
			}
			if err := ensureSchema(n.Relation.Schema); err != nil {
				fail(err.Error())
				continue
			}
			if v, ok := validatorFor(n); ok {
				if err := v(ctx, scratch, dir, n, relationOf(nodes)); err != nil {
					fail(err.Error())
				}
				continue
			}
			if err := scratch.Exec(ctx, "CREATE VIEW "+d.Relation(n.Relation)+" AS "+n.SQL); err != nil {
				fail(err.Error())
				continue
			}
			if n.IncrementalSQL != "" && n.IncrementalSQL != n.SQL {
				if err := scratch.Exec(ctx, "CREATE TEMP VIEW "+d.QuoteIdent("cdp_incremental_check")+" AS "+n.IncrementalSQL); err != nil {
					fail("with is_incremental() true: " + err.Error())
					continue
				}
				_ = scratch.Exec(ctx, "DROP VIEW "+d.QuoteIdent("cdp_incremental_check"))
			}
		case n.Kind == compile.KindTest:
			sql := n.SQL
			if sql == "" {
				sql = n.SingularSQL
			}
			if err := scratch.Exec(ctx, "CREATE TEMP VIEW "+d.QuoteIdent("cdp_test_check")+" AS "+sql); err != nil {
				fail(err.Error())
				continue
			}
			_ = scratch.Exec(ctx, "DROP VIEW "+d.QuoteIdent("cdp_test_check"))
		}
	}
	return problems
}

func upstreamProblem(n *compile.Node, failed, badSource map[string]string) string {
	for _, s := range n.Sources {
		if _, ok := badSource[s]; ok {
			return "not checked: source " + s + " is unavailable"
		}
	}
	for _, p := range n.DependsOn {
		if _, ok := failed[p]; ok {
			return "not checked: upstream " + p + " is invalid"
		}
	}
	return ""
}

func relationOf(nodes []*compile.Node) func(string) (warehouse.Relation, bool) {
	byID := make(map[string]warehouse.Relation, len(nodes))
	for _, n := range nodes {
		if n.Relation.Name != "" {
			byID[n.ID] = n.Relation
		}
	}
	return func(id string) (warehouse.Relation, bool) {
		r, ok := byID[id]
		return r, ok
	}
}
