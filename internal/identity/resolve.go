package identity

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Stats describes one resolution.
type Stats struct {
	Observations   int64 // observation rows with an event id
	Identifiers    int64 // rows of the identity map
	Profiles       int64
	LargestProfile int64
	Links          int64 // distinct accepted links
	// Dropped: distinct blocked and invalid values; links refused by a limit or cut by
	// max_group_size.
	DroppedBlocked, DroppedInvalid, DroppedLimit, DroppedBridge, DroppedMaxGroupSize int64
	// Rounds of connected components over the whole graph; LimitRounds of the limit
	// enforcement over the components that broke a limit (Conflicted identifiers).
	Rounds, LimitRounds int
	Conflicted          int64
	// RoundLog is a compact trace of every round ("cc1:120>14 ...").
	RoundLog []string
	Duration time.Duration
}

// outputs are the tables a resolution writes (rendered relation names).
type outputs struct {
	Map, Edges, Dropped string
	// Events, when set, gets (event_id, profile_id): the profile of each event's
	// highest-priority identifier.
	Events string
	RunID  string
}

// resolver runs one resolution. Its work tables live in the warehouse's staging area and are
// dropped when it is done.
type resolver struct {
	wh     warehouse.Warehouse
	d      warehouse.Dialect
	rules  *Rules
	prefix string
	names  map[string]string // rendered work table -> bare name
	logf   func(format string, args ...any)
	// trace, when set, is told how long each statement took (benchmarks).
	trace func(time.Duration, string)
	stats Stats
}

func newResolver(wh warehouse.Warehouse, rules *Rules, prefix string, logf func(string, ...any)) *resolver {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &resolver{wh: wh, d: wh.Dialect(), rules: rules, prefix: prefix, names: map[string]string{}, logf: logf}
}

// tbl names a work table.
func (r *resolver) tbl(suffix string) string {
	name := r.prefix + suffix
	ref := r.wh.Staged(name)
	r.names[ref] = name
	return ref
}

// ident is the bare, quoted name of a work table, for ALTER TABLE ... RENAME TO.
func (r *resolver) ident(ref string) string { return r.d.QuoteIdent(r.names[ref]) }

func (r *resolver) drop(ctx context.Context, suffixes ...string) {
	for _, s := range suffixes {
		_ = r.wh.DropStaged(context.WithoutCancel(ctx), r.prefix+s)
	}
}

// cleanup drops every work table.
func (r *resolver) cleanup(ctx context.Context) {
	for _, name := range r.names {
		_ = r.wh.DropStaged(context.WithoutCancel(ctx), name)
	}
}

func (r *resolver) exec(ctx context.Context, stmts ...string) error {
	for _, s := range stmts {
		t := time.Now()
		if err := r.wh.Exec(ctx, s); err != nil {
			return fmt.Errorf("%w\n  in: %s", err, abbreviate(s))
		}
		if r.trace != nil {
			r.trace(time.Since(t), s)
		}
	}
	return nil
}

func (r *resolver) queryInt(ctx context.Context, sql string) (int64, error) {
	rows, err := r.wh.Query(ctx, sql)
	if err != nil {
		return 0, fmt.Errorf("%w\n  in: %s", err, abbreviate(sql))
	}
	defer rows.Close()
	var n *int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

func (r *resolver) count(ctx context.Context, t string) (int64, error) {
	return r.queryInt(ctx, "SELECT COUNT(*) FROM "+t)
}

func abbreviate(s string) string {
	if len(s) > 400 {
		return s[:400] + "..."
	}
	return s
}

// typeName renders the name of the type index in column t.
func (r *resolver) typeName(t string) string {
	var b strings.Builder
	b.WriteString("CASE " + t)
	for i, typ := range r.rules.Priority {
		fmt.Fprintf(&b, " WHEN %d THEN %s", i+1, r.d.QuoteString(typ))
	}
	b.WriteString(" END")
	return b.String()
}

// limitOf renders the limit of the type index in column t (NULL: no limit).
func (r *resolver) limitOf(t string) string { return r.limitAt(t, 0) }

// limitAt renders the limit of the type index in column t for the links of level lvl: the
// types' limits, and at a level whose type does not bridge, limit 1 for the pseudo-types -1
// .. -(lvl-1), which count the profiles holding an identifier of each higher-priority type
// (see countsSQL).
func (r *resolver) limitAt(t string, lvl int64) string {
	var b strings.Builder
	if lvl > 1 && !r.rules.Bridges(r.rules.Priority[lvl-1]) {
		fmt.Fprintf(&b, " WHEN %s < 0 THEN 1", t)
	}
	for i, typ := range r.rules.Priority {
		if l := r.rules.Limit(typ); l > 0 {
			fmt.Fprintf(&b, " WHEN %s = %d THEN %d", t, i+1, l)
		}
	}
	if b.Len() == 0 {
		return "CAST(NULL AS " + r.d.Type("integer") + ")"
	}
	return "CASE" + b.String() + " END"
}

func (r *resolver) hasLimits() bool {
	for _, typ := range r.rules.Priority {
		if r.rules.Limit(typ) > 0 || !r.rules.Bridges(typ) {
			return true
		}
	}
	return false
}

// column renders an identifier rule's column setting over the observations: a plain name is
// quoted, anything else is an SQL expression used as written.
func (r *resolver) column(c string) string {
	if isName(c) {
		return r.d.QuoteIdent(c)
	}
	return "(" + c + ")"
}

// run resolves the observations (a parenthesized query) into the output tables.
func (r *resolver) run(ctx context.Context, obs string, out outputs) error {
	start := time.Now()
	d := r.d
	str, num := d.Type("string"), d.Type("integer")
	raw, occraw, vals, norm, nodes, occ := r.tbl("raw"), r.tbl("occraw"), r.tbl("vals"), r.tbl("norm"), r.tbl("nodes"), r.tbl("occ")
	hubs, valnode := r.tbl("hubs"), r.tbl("valnode")
	edges0, edges, cut, drops, cc := r.tbl("edges0"), r.tbl("edges"), r.tbl("cut"), r.tbl("drops"), r.tbl("cc")

	// 1. Observations, one event sequence number per (timestamp, event id).
	cols := []string{"CAST(" + r.column(r.rules.EventID) + " AS " + str + ") AS event_id", d.TryCast(r.column(r.rules.Timestamp), "timestamp") + " AS ts"}
	for i, id := range r.rules.Identifiers {
		cols = append(cols, fmt.Sprintf("CAST(%s AS %s) AS r%d", r.column(id.Column), str, i+1))
	}
	var rcols []string
	for i := range r.rules.Identifiers {
		rcols = append(rcols, fmt.Sprintf("r%d", i+1))
	}
	// Ranking only (row, timestamp, event id) and joining back is twice as fast as ranking the
	// observations with all their columns.
	obsn, rank := r.tbl("obsn"), r.tbl("rank")
	if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+obsn+" AS SELECT ROW_NUMBER() OVER () AS rid, q.* FROM (SELECT "+strings.Join(cols, ", ")+" FROM "+obs+" o) q WHERE event_id IS NOT NULL"); err != nil {
		return fmt.Errorf("reading the observations: %w", err)
	}
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+rank+" AS SELECT rid, DENSE_RANK() OVER (ORDER BY ts IS NULL, ts, event_id) AS seq FROM "+obsn,
		"CREATE OR REPLACE TABLE "+raw+" AS SELECT k.seq, o.event_id, o.ts, "+strings.Join(rcols, ", ")+" FROM "+obsn+" o JOIN "+rank+" k ON k.rid = o.rid",
	); err != nil {
		return err
	}
	r.drop(ctx, "obsn", "rank")
	// Usually every event is one row; then the event of a sequence number needs no grouping.
	var err error
	if r.stats.Observations, err = r.queryInt(ctx, "SELECT COUNT(*) FROM "+raw); err != nil {
		return err
	}
	distinct, err := r.queryInt(ctx, "SELECT MAX(seq) FROM "+raw)
	if err != nil {
		return err
	}
	events := "(SELECT seq, event_id, ts FROM " + raw + ")"
	if distinct < r.stats.Observations {
		events = "(SELECT seq, MIN(event_id) AS event_id, MIN(ts) AS ts FROM " + raw + " GROUP BY seq)"
	}

	// 2. Identifier occurrences, their distinct raw values, normalized and checked once each.
	var occs []string
	for i := range r.rules.Identifiers {
		occs = append(occs, fmt.Sprintf("SELECT seq, ts, %d AS rule, r%d AS raw FROM %s WHERE r%d IS NOT NULL", i+1, i+1, raw, i+1))
	}
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+occraw+" AS "+strings.Join(occs, " UNION ALL "),
		"CREATE OR REPLACE TABLE "+vals+" AS SELECT rule, raw, MIN(ts) AS first_ts, MAX(ts) AS last_ts, COUNT(*) AS n, MIN(seq) AS first_seq FROM "+occraw+" GROUP BY rule, raw",
	); err != nil {
		return err
	}
	var norms []string
	keep := []string{"rule", "raw", "first_ts", "last_ts", "n", "first_seq"}
	ruleType := "CASE rule"
	for i, id := range r.rules.Identifiers {
		src := fmt.Sprintf("(SELECT %s FROM %s WHERE rule = %d) v", strings.Join(keep, ", "), vals, i+1)
		norms = append(norms, normalizeSelect(d, id, r.rules.DefaultCountry, src, keep))
		ruleType += fmt.Sprintf(" WHEN %d THEN %d", i+1, r.rules.rank(id.Type))
	}
	ruleType += " END"
	key := "LOWER(COALESCE(value, TRIM(raw)))"
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+norm+" AS SELECT "+strings.Join(keep, ", ")+", "+ruleType+" AS t, value, "+
			"CASE WHEN TRIM(raw) = '' THEN 'empty' WHEN "+blockedExpr(d, r.rules, key)+" THEN 'blocked' WHEN value IS NULL THEN 'invalid' END AS problem "+
			"FROM ("+strings.Join(norms, " UNION ALL ")+") u",
		// 3. Identifiers (nodes), numbered in priority order: type, first seen, value. The
		// smallest node of a profile is therefore its anchor.
		"CREATE OR REPLACE TABLE "+nodes+" AS SELECT ROW_NUMBER() OVER (ORDER BY t, first_ts IS NULL, first_ts, value) AS node, t, value, first_ts, last_ts "+
			"FROM (SELECT t, value, MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts FROM "+norm+" WHERE problem IS NULL GROUP BY t, value) g",
		"CREATE OR REPLACE TABLE "+valnode+" AS SELECT v.rule, v.raw, x.node FROM "+norm+" v JOIN "+nodes+" x ON x.t = v.t AND x.value = v.value WHERE v.problem IS NULL",
		"CREATE OR REPLACE TABLE "+occ+" AS SELECT DISTINCT o.seq, v.node FROM "+occraw+" o JOIN "+valnode+" v ON v.rule = o.rule AND v.raw = o.raw",
		// 4. Links: a star from each event's highest-priority identifier (its smallest node)
		// to its other identifiers, counted over events.
		"CREATE OR REPLACE TABLE "+hubs+" AS SELECT seq, MIN(node) AS hub FROM "+occ+" GROUP BY seq",
		"CREATE OR REPLACE TABLE "+edges0+" AS SELECT h.hub AS a, o.node AS b, COUNT(*) AS events, MIN(o.seq) AS first_seq FROM "+occ+" o "+
			"JOIN "+hubs+" h ON h.seq = o.seq WHERE o.node <> h.hub GROUP BY h.hub, o.node",
		"CREATE OR REPLACE TABLE "+drops+" (a "+num+", b "+num+", events "+num+", first_seq "+num+", reason "+str+")",
	); err != nil {
		return err
	}
	r.drop(ctx, "occraw", "vals", "valnode", "occ")

	// 5. Identifiers linked to more than max_group_size others are cut loose.
	if err := r.exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT n AS node FROM (SELECT a AS n FROM %s UNION ALL SELECT b FROM %s) x GROUP BY n HAVING COUNT(*) > %d", cut, edges0, edges0, r.rules.MaxGroupSize)); err != nil {
		return err
	}
	ncut, err := r.count(ctx, cut)
	if err != nil {
		return err
	}
	if ncut > 0 {
		r.logf("max_group_size: cutting %d identifiers linked to more than %d others", ncut, r.rules.MaxGroupSize)
		touches := "e.a IN (SELECT node FROM " + cut + ") OR e.b IN (SELECT node FROM " + cut + ")"
		if err := r.exec(ctx,
			"INSERT INTO "+drops+" SELECT a, b, events, first_seq, 'max_group_size' FROM "+edges0+" e WHERE "+touches,
			"CREATE OR REPLACE TABLE "+edges+" AS SELECT * FROM "+edges0+" e WHERE NOT ("+touches+")",
		); err != nil {
			return err
		}
	} else if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+edges+" AS SELECT * FROM "+edges0); err != nil {
		return err
	}
	r.drop(ctx, "edges0")

	// 6. Connected components of everything, then the limits where a component breaks one.
	if r.stats.Rounds, err = r.components(ctx, "cc", edges, cc); err != nil {
		return err
	}
	labels := "(SELECT n.node, n.t, n.value, n.first_ts, n.last_ts, COALESCE(c.label, n.node) AS label FROM " + nodes + " n LEFT JOIN " + cc + " c ON c.node = n.node)"
	if r.hasLimits() {
		vlabel, err := r.enforceLimits(ctx, nodes, edges, cc, drops)
		if err != nil {
			return err
		}
		if vlabel != "" {
			labels = "(SELECT n.node, n.t, n.value, n.first_ts, n.last_ts, COALESCE(v.label, c.label, n.node) AS label FROM " + nodes + " n LEFT JOIN " + cc + " c ON c.node = n.node LEFT JOIN " + vlabel + " v ON v.node = n.node)"
		}
	}

	// 7. Profile ids from anchors, and the outputs.
	lab, anchors, evx := r.tbl("lab"), r.tbl("anchors"), r.tbl("evx")
	pid := "'p_' || SUBSTR(" + d.MD5Hex(r.typeName("t")+" || ':' || value") + ", 1, 16)"
	if err := r.exec(ctx,
		"CREATE OR REPLACE TABLE "+lab+" AS SELECT * FROM "+labels+" l",
		"CREATE OR REPLACE TABLE "+anchors+" AS SELECT label, "+pid+" AS profile_id FROM "+lab+" WHERE node = label",
		"CREATE OR REPLACE TABLE "+evx+" AS SELECT r.seq, r.event_id, r.ts FROM "+events+" r JOIN ("+
			"SELECT first_seq AS seq FROM "+edges+" UNION DISTINCT SELECT first_seq FROM "+drops+" UNION DISTINCT SELECT first_seq FROM "+norm+" WHERE problem IN ('blocked', 'invalid')) s ON s.seq = r.seq",
		"CREATE OR REPLACE TABLE "+out.Map+" AS SELECT "+r.typeName("l.t")+" AS identifier_type, l.value AS identifier, p.profile_id, l.first_ts AS first_seen_at, l.last_ts AS last_seen_at "+
			"FROM "+lab+" l JOIN "+anchors+" p ON p.label = l.label",
		"CREATE OR REPLACE TABLE "+out.Edges+" AS SELECT p.profile_id, "+r.typeName("la.t")+" AS identifier_type, la.value AS identifier, "+
			r.typeName("lb.t")+" AS other_type, lb.value AS other_identifier, x.event_id, x.ts AS first_seen_at, e.events "+
			"FROM "+edges+" e JOIN "+lab+" la ON la.node = e.a JOIN "+lab+" lb ON lb.node = e.b JOIN "+anchors+" p ON p.label = la.label "+
			"LEFT JOIN "+evx+" x ON x.seq = e.first_seq WHERE la.label = lb.label",
		"CREATE OR REPLACE TABLE "+out.Dropped+" AS SELECT "+d.QuoteString(out.RunID)+" AS run_id, "+r.typeName("v.t")+" AS identifier_type, v.raw AS identifier, "+
			"CAST(NULL AS "+str+") AS other_type, CAST(NULL AS "+str+") AS other_identifier, v.problem AS reason, x.event_id, v.events "+
			"FROM (SELECT t, raw, problem, MIN(first_seq) AS first_seq, CAST(SUM(n) AS "+num+") AS events FROM "+norm+" WHERE problem IN ('blocked', 'invalid') GROUP BY t, raw, problem) v "+
			"LEFT JOIN "+evx+" x ON x.seq = v.first_seq "+
			"UNION ALL SELECT "+d.QuoteString(out.RunID)+", "+r.typeName("na.t")+", na.value, "+r.typeName("nb.t")+", nb.value, g.reason, x.event_id, g.events "+
			"FROM "+drops+" g JOIN "+nodes+" na ON na.node = g.a JOIN "+nodes+" nb ON nb.node = g.b LEFT JOIN "+evx+" x ON x.seq = g.first_seq",
	); err != nil {
		return err
	}
	if out.Events != "" {
		if err := r.exec(ctx, "CREATE OR REPLACE TABLE "+out.Events+" AS SELECT e.event_id, p.profile_id FROM "+
			events+" e JOIN "+hubs+" h ON h.seq = e.seq "+
			"JOIN "+lab+" l ON l.node = h.hub JOIN "+anchors+" p ON p.label = l.label"); err != nil {
			return err
		}
	}

	// 8. Statistics.
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&r.stats.Identifiers, "SELECT COUNT(*) FROM " + lab},
		{&r.stats.Profiles, "SELECT COUNT(*) FROM " + anchors},
		{&r.stats.LargestProfile, "SELECT MAX(k) FROM (SELECT COUNT(*) AS k FROM " + lab + " GROUP BY label) s"},
		{&r.stats.Links, "SELECT COUNT(*) FROM " + out.Edges},
		{&r.stats.DroppedBlocked, "SELECT COUNT(*) FROM " + out.Dropped + " WHERE reason = 'blocked'"},
		{&r.stats.DroppedInvalid, "SELECT COUNT(*) FROM " + out.Dropped + " WHERE reason = 'invalid'"},
		{&r.stats.DroppedLimit, "SELECT COUNT(*) FROM " + drops + " WHERE reason = 'limit'"},
		{&r.stats.DroppedBridge, "SELECT COUNT(*) FROM " + drops + " WHERE reason = 'bridge'"},
		{&r.stats.DroppedMaxGroupSize, "SELECT COUNT(*) FROM " + drops + " WHERE reason = 'max_group_size'"},
	} {
		if *q.dst, err = r.queryInt(ctx, q.sql); err != nil {
			return err
		}
	}
	r.stats.Duration = time.Since(start)
	r.logf("resolved %d identifiers into %d profiles in %s (%d + %d rounds)", r.stats.Identifiers, r.stats.Profiles, r.stats.Duration.Round(time.Millisecond), r.stats.Rounds, r.stats.LimitRounds)
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
