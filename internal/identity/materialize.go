package identity

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Materialization is the name models use: materialized='identity'.
const Materialization = "identity"

// Sibling tables of an identity model <m>.
const (
	SuffixEdges   = "edges"         // <m>_edges: accepted links and the first event that made each
	SuffixEvents  = "events"        // <m>_events: the profile of every event
	SuffixDropped = "dropped_links" // <m>_dropped_links: this run's refused values and links
	SuffixChanges = "changes"       // <m>_changes: append-only history of merges and splits
	SuffixMetrics = "metrics"       // <m>_metrics: append-only, one row per run
)

func init() { run.RegisterMaterialization(Materialization, materialize) }

// materialize builds an identity model: it resolves the model's observations, compares the new
// identity map with the previous one, and publishes the map, its siblings and the state of the
// model in one commit.
func materialize(ctx context.Context, b *run.Build) error {
	start := time.Now()
	rel := b.Relation()
	// The runner names the model in errors.
	rules, err := ParseRules(b.Node.Config.Extra["identity"])
	if err != nil {
		return err
	}
	obs := subquery(b.Node.SQL)
	cols, err := observationColumns(ctx, b.WH, obs)
	if err != nil {
		return fmt.Errorf("reading the observations: %w", err)
	}
	if err := rules.Resolve(cols); err != nil {
		return err
	}
	if err := b.EnsureSchema(ctx); err != nil {
		return err
	}
	d := b.WH.Dialect()
	scratch := map[string]warehouse.Relation{
		"map": b.Scratch("map"), SuffixEdges: b.Scratch(SuffixEdges),
		SuffixDropped: b.Scratch(SuffixDropped), SuffixChanges: b.Scratch(SuffixChanges), SuffixEvents: b.Scratch(SuffixEvents),
	}
	defer func() {
		for _, s := range scratch {
			_ = b.WH.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+d.Relation(s))
		}
	}()
	logger := slog.Default().With("model", b.Node.ID)
	r := newResolver(b.WH, rules, "cdp_identity_"+rel.Schema+"_"+rel.Name+"_", func(format string, args ...any) {
		logger.Debug(fmt.Sprintf(format, args...))
	})
	defer r.cleanup(ctx)
	if err := r.run(ctx, obs, outputs{
		Map: d.Relation(scratch["map"]), Edges: d.Relation(scratch[SuffixEdges]), Dropped: d.Relation(scratch[SuffixDropped]),
		Events: d.Relation(scratch[SuffixEvents]), RunID: b.RunID,
	}); err != nil {
		return err
	}

	// Merges and splits against the previous map.
	hadMap, err := b.Exists(ctx, rel)
	if err != nil {
		return err
	}
	changes := d.Relation(scratch[SuffixChanges])
	var merges, splits int64
	if hadMap {
		if err := r.changes(ctx, d.Relation(rel), d.Relation(scratch["map"]), changes, b.RunID); err != nil {
			return fmt.Errorf("comparing with the previous identity map: %w", err)
		}
		if merges, err = r.queryInt(ctx, "SELECT COUNT(DISTINCT new_profile_id) FROM "+changes+" WHERE reason = 'merge'"); err != nil {
			return err
		}
		if splits, err = r.queryInt(ctx, "SELECT COUNT(DISTINCT old_profile_id) FROM "+changes+" WHERE reason = 'split'"); err != nil {
			return err
		}
	} else if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+changes+" AS SELECT * FROM "+changesSchema(d)+" WHERE FALSE"); err != nil {
		return err
	}

	var stmts []string
	for _, o := range []struct {
		tmp warehouse.Relation
		dst warehouse.Relation
	}{
		{scratch["map"], rel},
		{scratch[SuffixEdges], b.Sibling(SuffixEdges)},
		{scratch[SuffixDropped], b.Sibling(SuffixDropped)},
		{scratch[SuffixEvents], b.Sibling(SuffixEvents)},
	} {
		s, err := b.ReplaceTable(ctx, o.tmp, o.dst)
		if err != nil {
			return err
		}
		stmts = append(stmts, s...)
	}
	st := r.stats
	st.Duration = time.Since(start)
	hist, metrics := d.Relation(b.Sibling(SuffixChanges)), d.Relation(b.Sibling(SuffixMetrics))
	stmts = append(stmts,
		"CREATE TABLE IF NOT EXISTS "+hist+" AS SELECT * FROM "+changesSchema(d)+" WHERE FALSE",
		"INSERT INTO "+hist+" SELECT changed_at, run_id, identifier_type, identifier, old_profile_id, new_profile_id, reason FROM "+changes,
		"CREATE TABLE IF NOT EXISTS "+metrics+" AS SELECT * FROM "+metricsRow(d, "", &st, 0, 0, "", true)+" WHERE FALSE",
		"INSERT INTO "+metrics+" SELECT * FROM "+metricsRow(d, b.RunID, &st, merges, splits, rules.JSON(), false),
	)
	msg := fmt.Sprintf("%d identifiers in %d profiles", st.Identifiers, st.Profiles)
	if merges+splits > 0 {
		msg += fmt.Sprintf("; %d merged, %d split", merges, splits)
	}
	if n := st.DroppedLimit + st.DroppedBridge + st.DroppedMaxGroupSize; n > 0 {
		msg += fmt.Sprintf("; %d links refused", n)
	}
	msg += fmt.Sprintf("; %d rounds", st.Rounds+st.LimitRounds)
	return b.Commit(ctx, st.Identifiers, msg, stmts...)
}

// subquery wraps a model's SELECT so it can be selected from: without a trailing semicolon,
// and with a newline so that a trailing line comment cannot swallow the parenthesis.
func subquery(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	return "(" + sql + "\n)"
}

// observationColumns are the names of the columns the observations (a subquery) have.
func observationColumns(ctx context.Context, wh warehouse.Warehouse, obs string) ([]string, error) {
	rows, err := wh.Query(ctx, "SELECT * FROM "+obs+" o WHERE FALSE")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for _, c := range rows.Columns() {
		out = append(out, c.Name)
	}
	return out, rows.Err()
}

// changesSchema is a one-row query with the columns of <m>_changes.
func changesSchema(d warehouse.Dialect) string {
	s := d.Type("string")
	return "(SELECT CAST(NULL AS " + d.Type("timestamp") + ") AS changed_at, CAST(NULL AS " + s + ") AS run_id, CAST(NULL AS " + s + ") AS identifier_type, " +
		"CAST(NULL AS " + s + ") AS identifier, CAST(NULL AS " + s + ") AS old_profile_id, CAST(NULL AS " + s + ") AS new_profile_id, CAST(NULL AS " + s + ") AS reason) c"
}

// metricsRow is a one-row query with a run's metrics.
func metricsRow(d warehouse.Dialect, runID string, st *Stats, merges, splits int64, rules string, schemaOnly bool) string {
	i := func(n int64) string { return "CAST(" + itoa(n) + " AS " + d.Type("integer") + ")" }
	built := "CAST(" + d.Now() + " AS " + d.Type("timestamp") + ")"
	if schemaOnly {
		built = "CAST(NULL AS " + d.Type("timestamp") + ")"
	}
	cols := []string{
		"CAST(" + d.QuoteString(runID) + " AS " + d.Type("string") + ") AS run_id",
		built + " AS built_at",
		i(st.Profiles) + " AS profiles",
		i(st.Identifiers) + " AS identifiers",
		i(merges) + " AS merges",
		i(splits) + " AS splits",
		i(st.DroppedBlocked) + " AS dropped_blocked",
		i(st.DroppedInvalid) + " AS dropped_invalid",
		i(st.DroppedLimit) + " AS dropped_limit",
		i(st.DroppedMaxGroupSize) + " AS dropped_max_group_size",
		i(st.DroppedBridge) + " AS dropped_bridge",
		i(st.LargestProfile) + " AS largest_profile",
		i(int64(st.Rounds)) + " AS rounds",
		i(int64(st.LimitRounds)) + " AS limit_rounds",
		i(st.Links) + " AS links",
		i(st.Conflicted) + " AS conflicted_identifiers",
		i(st.Observations) + " AS observations",
		"CAST(" + fmt.Sprintf("%.3f", st.Duration.Seconds()) + " AS " + d.Type("number") + ") AS seconds",
		"CAST(" + d.QuoteString(strings.Join(st.RoundLog, " ")) + " AS " + d.Type("string") + ") AS round_log",
		"CAST(" + d.QuoteString(rules) + " AS " + d.Type("string") + ") AS rules",
	}
	return "(SELECT " + strings.Join(cols, ", ") + ") m"
}

// changes writes to out the identifiers of the previous map (prev) whose profile id differs in
// the new one (next), with why: merge (the new profile gathers identifiers of several old
// profiles), split (the old profile's identifiers went to several new ones), removed (the
// identifier is gone: blocked, or its events are), or reanchor (none of those: the profile
// gained an identifier that outranks its old anchor).
func (r *resolver) changes(ctx context.Context, prev, next, out, runID string) error {
	d := r.d
	cmp := r.tbl("cmp")
	return r.exec(ctx,
		"CREATE OR REPLACE TABLE "+cmp+" AS SELECT o.identifier_type, o.identifier, o.profile_id AS old_profile_id, n.profile_id AS new_profile_id FROM "+prev+" o "+
			"LEFT JOIN "+next+" n ON n.identifier_type = o.identifier_type AND n.identifier = o.identifier",
		"CREATE OR REPLACE TABLE "+out+" AS SELECT CAST("+d.Now()+" AS "+d.Type("timestamp")+") AS changed_at, "+d.QuoteString(runID)+" AS run_id, "+
			"c.identifier_type, c.identifier, c.old_profile_id, c.new_profile_id, "+
			"CASE WHEN c.new_profile_id IS NULL THEN 'removed' WHEN m.p IS NOT NULL THEN 'merge' WHEN s.p IS NOT NULL THEN 'split' ELSE 'reanchor' END AS reason "+
			"FROM "+cmp+" c "+
			"LEFT JOIN (SELECT new_profile_id AS p FROM "+cmp+" WHERE new_profile_id IS NOT NULL GROUP BY new_profile_id HAVING COUNT(DISTINCT old_profile_id) > 1) m ON m.p = c.new_profile_id "+
			"LEFT JOIN (SELECT old_profile_id AS p FROM "+cmp+" WHERE new_profile_id IS NOT NULL GROUP BY old_profile_id HAVING COUNT(DISTINCT new_profile_id) > 1) s ON s.p = c.old_profile_id "+
			"WHERE c.new_profile_id IS NULL OR c.new_profile_id <> c.old_profile_id",
	)
}
