package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Materialization builds a model whose materialization cdp's core does not know (identity,
// audience). It does its work through the Build it is given and must finish with Build.Commit,
// which publishes its changes together with the model's state, data version and run log in one
// transaction: until then nothing a reader sees may change.
type Materialization func(ctx context.Context, b *Build) error

var (
	customMu sync.RWMutex
	custom   = map[string]Materialization{}
)

// RegisterMaterialization makes a materialization available to models by name. Packages that
// provide one call it from init; the CLI imports them.
func RegisterMaterialization(name string, m Materialization) {
	customMu.Lock()
	defer customMu.Unlock()
	if _, dup := custom[name]; dup {
		panic("run: materialization registered twice: " + name)
	}
	custom[name] = m
}

func customMaterialization(name string) (Materialization, bool) {
	customMu.RLock()
	defer customMu.RUnlock()
	m, ok := custom[name]
	return m, ok
}

// Materializations lists the registered custom materializations.
func Materializations() []string {
	customMu.RLock()
	defer customMu.RUnlock()
	var names []string
	for n := range custom {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Build is what a custom materialization works with.
type Build struct {
	Node        *compile.Node
	WH          warehouse.Warehouse
	FullRefresh bool
	// RunID names this run; materializations that keep history tag rows with it.
	RunID string
	b     *builder
}

// Relation is where the model is built.
func (b *Build) Relation() warehouse.Relation { return b.Node.Relation }

// Sibling names a relation next to the model's (same schema): "<model>_<suffix>", for the
// extra outputs a materialization keeps (audits, history, metrics).
func (b *Build) Sibling(suffix string) warehouse.Relation {
	return warehouse.Relation{Schema: b.Node.Relation.Schema, Name: b.Node.Relation.Name + "_" + suffix}
}

// Scratch names a work table next to the model's, dropped by the caller when done:
// "<model>__cdp_<suffix>".
func (b *Build) Scratch(suffix string) warehouse.Relation {
	return warehouse.Relation{Schema: b.Node.Relation.Schema, Name: b.Node.Relation.Name + "__cdp_" + suffix}
}

// EnsureSchema creates the model's schema if needed.
func (b *Build) EnsureSchema(ctx context.Context) error {
	return b.b.e.ensureSchema(ctx, b.Node.Relation)
}

// Exists reports whether a relation exists (as of the run, kept current by Commit and ReplaceTable).
func (b *Build) Exists(ctx context.Context, r warehouse.Relation) (bool, error) {
	_, err := b.WH.Columns(ctx, r)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, warehouse.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// ReplaceTable renders the statements that make rel the contents of tmp in a Commit: drop rel
// if it exists, rename tmp to it.
func (b *Build) ReplaceTable(ctx context.Context, tmp, rel warehouse.Relation) ([]string, error) {
	d := b.WH.Dialect()
	var stmts []string
	exists, err := b.Exists(ctx, rel)
	if err != nil {
		return nil, err
	}
	if exists {
		stmts = append(stmts, "DROP TABLE "+d.Relation(rel))
	}
	return append(stmts, "ALTER TABLE "+d.Relation(tmp)+" RENAME TO "+d.QuoteIdent(rel.Name)), nil
}

// Commit runs stmts, then records the model's state, data version and run log, all in one
// transaction. rows and message become the result's.
func (b *Build) Commit(ctx context.Context, rows int64, message string, stmts ...string) error {
	b.b.res.Rows = rows
	if err := b.b.commit(ctx, stmts, "table"); err != nil {
		return err
	}
	b.b.res.Message = message
	return nil
}

func (bl *builder) custom(ctx context.Context, m Materialization) error {
	b := &Build{Node: bl.n, WH: bl.e.wh, FullRefresh: bl.e.r.FullRefresh, RunID: bl.e.runID, b: bl}
	if err := m(ctx, b); err != nil {
		return err
	}
	if bl.res.Status != StatusSuccess {
		return fmt.Errorf("materialization %q returned without committing", materialized(bl.n))
	}
	return nil
}

// ClockCheck says what makes a model of a custom materialization depend on the time it is
// built ("within: 30d"), or "" when nothing does. Models whose SQL reads the clock need none:
// the compiler finds that (compile.Node.ReadsClock).
type ClockCheck func(n *compile.Node) string

var clockChecks = map[string]ClockCheck{}

// RegisterClockCheck sets how the runner tells whether a model of a custom materialization
// reads the clock beyond its SQL, as audience rules with `within` do: such a model is rebuilt
// on every run instead of being skipped for unchanged inputs.
func RegisterClockCheck(materialization string, c ClockCheck) {
	customMu.Lock()
	defer customMu.Unlock()
	clockChecks[materialization] = c
}

// readsClock is why n's output depends on the time it is built, or "".
func readsClock(n *compile.Node) string {
	if n.ReadsClock != "" {
		return n.ReadsClock
	}
	customMu.RLock()
	c, ok := clockChecks[materialized(n)]
	customMu.RUnlock()
	if ok {
		return c(n)
	}
	return ""
}
