package identity

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

func init() { run.RegisterValidator("identity", validate) }

// validate is how `cdp compile` checks an identity model: it runs the real resolution over the
// observations in the empty scratch database. That checks the observation SQL binds, that the
// rules name columns it returns, and leaves the map and its siblings with their real columns
// for the models that read them.
func validate(ctx context.Context, scratch warehouse.Warehouse, _ string, n *compile.Node, _ func(string) (warehouse.Relation, bool)) error {
	rules, err := ParseRules(n.Config.Extra["identity"])
	if err != nil {
		return err
	}
	obs := subquery(n.SQL)
	cols, err := observationColumns(ctx, scratch, obs)
	if err != nil {
		return fmt.Errorf("reading the observations: %w", err)
	}
	if err := rules.Resolve(cols); err != nil {
		return err
	}
	d := scratch.Dialect()
	rel := n.Relation
	if err := scratch.Exec(ctx, d.CreateSchema(rel.Schema)); err != nil {
		return err
	}
	sibling := func(suffix string) string {
		return d.Relation(warehouse.Relation{Schema: rel.Schema, Name: rel.Name + "_" + suffix})
	}
	r := newResolver(scratch, rules, "cdp_identity_check_", func(format string, args ...any) {
		slog.Debug(fmt.Sprintf(format, args...))
	})
	defer r.cleanup(ctx)
	if err := r.run(ctx, obs, outputs{
		Map: d.Relation(rel), Edges: sibling(SuffixEdges), Dropped: sibling(SuffixDropped), Events: sibling(SuffixEvents),
	}); err != nil {
		return err
	}
	var st Stats
	for _, q := range []string{
		"CREATE TABLE " + sibling(SuffixChanges) + " AS SELECT * FROM " + changesSchema(d) + " WHERE FALSE",
		"CREATE TABLE " + sibling(SuffixMetrics) + " AS SELECT * FROM " + metricsRow(d, "", &st, 0, 0, "", true) + " WHERE FALSE",
	} {
		if err := scratch.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
