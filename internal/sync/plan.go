package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/syncdef"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Plan is what a run would send: counts of adds, changes and removes, samples of each, the
// invalid rows left out and the guards the plan breaks.
type Plan struct {
	Sync        string `json:"sync"`
	Model       string `json:"model"`
	Destination string `json:"destination"`
	Mode        string `json:"mode"`
	// ModelRows is every row the model returned, invalid ones included.
	ModelRows int64 `json:"model_rows"`
	// SnapshotRows is the rows the destination has acknowledged so far.
	SnapshotRows int64   `json:"snapshot_rows"`
	Changes      Counts  `json:"changes"`
	Invalid      Invalid `json:"invalid"`
	// NoConsent is the valid rows left out because their consent column is not true.
	NoConsent int64 `json:"no_consent"`
	// Samples are the first rows of each action by key: adds, then changes, then removes.
	Samples []Sample `json:"samples"`
	// Guards are the guards this plan breaks; a run refuses it unless forced.
	Guards []Violation `json:"guards"`
}

// Counts are rows per action.
type Counts struct {
	Add    int64 `json:"add"`
	Change int64 `json:"change"`
	Remove int64 `json:"remove"`
}

// Total is the rows to send.
func (c Counts) Total() int64 { return c.Add + c.Change + c.Remove }

func (c *Counts) add(a destination.Action, n int64) {
	switch a {
	case destination.Add:
		c.Add += n
	case destination.Change:
		c.Change += n
	case destination.Remove:
		c.Remove += n
	}
}

// Of returns the count of one action.
func (c Counts) Of(a destination.Action) int64 {
	switch a {
	case destination.Add:
		return c.Add
	case destination.Change:
		return c.Change
	case destination.Remove:
		return c.Remove
	}
	return 0
}

// Invalid counts the rows that are never sent: a NULL primary key, or a key that more than one
// row has.
type Invalid struct {
	NullKeys      int64          `json:"null_keys"`
	DuplicateRows int64          `json:"duplicate_rows"`
	DuplicateKeys int64          `json:"duplicate_keys"`
	Samples       []DuplicateKey `json:"samples"`
}

// Rows is the number of invalid rows.
func (i Invalid) Rows() int64 { return i.NullKeys + i.DuplicateRows }

// DuplicateKey is a key that several rows share.
type DuplicateKey struct {
	Key  string `json:"key"`
	Rows int64  `json:"rows"`
}

// Sample is one planned row.
type Sample struct {
	Action destination.Action `json:"action"`
	Key    string             `json:"key"`
	// Fields are the mapped fields: the new ones for an add or change, the last acknowledged
	// ones for a remove.
	Fields map[string]any `json:"fields"`
	// Old are the last acknowledged fields of a change.
	Old map[string]any `json:"old,omitempty"`
	// Reason says why a row is removed: "not in model" or "consent withdrawn".
	Reason string `json:"reason,omitempty"`
}

// Violation is a guard a plan breaks.
type Violation struct {
	Guard   string `json:"guard"` // allow_empty, max_remove_share, max_add_share
	Message string `json:"message"`
}

// HasChanges reports whether applying the plan would send anything.
func (p *Plan) HasChanges() bool { return p.Changes.Total() > 0 }

// PlanOptions changes what Plan reports.
type PlanOptions struct {
	// Samples is the number of sample rows per action; 0 means 5, negative means none.
	Samples int
}

// NewPlan diffs the sync's model (the relation model) against its snapshot in the warehouse.
// It creates the sync's state tables if needed and changes nothing else.
func NewPlan(ctx context.Context, wh warehouse.Warehouse, def *syncdef.Def, model warehouse.Relation, opts PlanOptions) (*Plan, error) {
	uncap, err := capMemory(ctx, wh)
	if err != nil {
		return nil, wrapSync(def, err)
	}
	defer uncap()
	q, err := newQuery(ctx, wh, def, model)
	if err != nil {
		return nil, wrapSync(def, err)
	}
	p, err := q.plan(ctx, opts)
	if derr := q.drop(ctx); err == nil && derr != nil {
		err = derr
	}
	if err != nil {
		return nil, wrapSync(def, err)
	}
	return p, nil
}

// randomSuffix makes scratch table names unique: 8 hex digits.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func wrapSync(def *syncdef.Def, err error) error {
	var cfgErr config.Errors
	if errors.As(err, &cfgErr) {
		return err // already says where, in the sync's file
	}
	if strings.Contains(err.Error(), "Out of Memory Error") {
		// DuckDB's own advice (raise memory_limit with SET) does not reach a sync, which sets
		// the limit itself: say where the user can raise it.
		return fmt.Errorf("sync %q: %w\n  a sync caps DuckDB's memory unless the target sets one; give it more with memory_limit: 1GB on the target in cdp.yaml", def.Name, err)
	}
	return fmt.Errorf("sync %q: %w", def.Name, err)
}

// query renders the SQL of one sync's diff.
type query struct {
	wh    warehouse.Warehouse
	d     warehouse.Dialect
	def   *syncdef.Def
	model warehouse.Relation
	// columns are the model's real column names for the primary key, the mapped columns (by
	// index into def.Mapping; "" for constants) and the consent column ("" when none).
	key, consent string
	fields       []string
	// stageName is the scratch table of the planned rows (warehouse.Staged), made by plan.
	stageName string
	staged    bool
}

func newQuery(ctx context.Context, wh warehouse.Warehouse, def *syncdef.Def, model warehouse.Relation) (*query, error) {
	if err := state.EnsureSync(ctx, wh, def.Name); err != nil {
		return nil, err
	}
	cols, err := wh.Columns(ctx, model)
	if errors.Is(err, warehouse.ErrNotFound) {
		return nil, fmt.Errorf("model %s not found in the warehouse; build it first (cdp build -s %s)", model, model.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", model, err)
	}
	names := make([]string, len(cols))
	byLower := map[string]string{}
	for i, c := range cols {
		names[i] = c.Name
		byLower[strings.ToLower(c.Name)] = c.Name
	}
	var errs config.Errors
	find := func(col string, pos config.Pos, what string) string {
		if real, ok := byLower[strings.ToLower(col)]; ok {
			return real
		}
		msg := fmt.Sprintf("sync %q: %s: model %s has no column %q", def.Name, what, model, col)
		if s := config.Suggest(col, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; its columns are " + strings.Join(names, ", ")
		}
		errs = append(errs, &config.Error{Pos: pos, Msg: msg})
		return ""
	}
	q := &query{wh: wh, d: wh.Dialect(), def: def, model: model, fields: make([]string, len(def.Mapping)),
		stageName: "sync_plan_" + def.Name + "_" + randomSuffix()}
	q.key = find(def.PrimaryKey, def.Pos, "primary_key")
	for i, f := range def.Mapping {
		if f.Column != "" {
			q.fields[i] = find(f.Column, f.Pos, "mapping."+f.Name)
		}
	}
	if c := def.ConsentColumn(); c != "" {
		if real, ok := byLower[c]; ok {
			q.consent = real
		} else {
			errs = append(errs, &config.Error{Pos: def.Pos, Msg: fmt.Sprintf(
				"sync %q: consent %s needs a boolean column %s in model %s (true = the profile agreed); add it to the model or remove consent:",
				def.Name, def.Consent, c, model)})
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return q, nil
}

func (q *query) snapshot() string { return q.d.Relation(state.SyncSnapshot(q.def.Name)) }

// srcSQL renders the first common table expression, src: every model row with its key as
// text, its consent and its mapped columns (cdp_f<i>, by index into the mapping).
func (q *query) srcSQL() string {
	return "WITH src AS (\n  " + q.srcSelect() + "\n)"
}

// srcSelect is the query of src. The diff and the statistics read the model through it inline
// rather than through a common table expression named more than once: DuckDB materializes such
// an expression, which for a 5M-row model is every mapped column held at once.
func (q *query) srcSelect() string {
	d := q.d
	var b strings.Builder
	consent := "TRUE"
	if q.consent != "" {
		consent = "(" + d.TryCast(d.QuoteIdent(q.consent), "boolean") + ") IS TRUE"
	}
	fmt.Fprintf(&b, "SELECT CAST(%s AS %s) AS cdp_key, %s AS cdp_consent", d.QuoteIdent(q.key), d.Type("string"), consent)
	for i, col := range q.fields {
		if col != "" {
			fmt.Fprintf(&b, ", %s AS cdp_f%d", d.QuoteIdent(col), i)
		}
	}
	fmt.Fprintf(&b, " FROM %s", d.Relation(q.model))
	return b.String()
}

// keysSQL renders the model's keys with their row counts (cdp_n) and how many of their rows lack
// consent (cdp_no_consent); NULL keys are one row. Only integers are aggregated: an aggregate
// of text per key (a digest) is held outside DuckDB's memory limit.
func (q *query) keysSQL() string {
	return "SELECT cdp_key, count(*) AS cdp_n, sum(CASE WHEN cdp_consent THEN 0 ELSE 1 END) AS cdp_no_consent FROM (" +
		q.srcSelect() + ") AS src GROUP BY cdp_key"
}

// diffSQL renders the planned rows: (cdp_action, cdp_key, cdp_reason). One full outer join of
// the model's non-NULL rows, with their digest, against the snapshot decides every key: a key
// several rows share is left out (never sent, never removed); a snapshot key the model lacks is
// removed (mirror and audience modes); a row without consent is removed if it was sent; a new
// key is added; a known key whose digest differs is changed (modes that send changes).
func (q *query) diffSQL() string {
	d := q.d
	removeMissing, change := "NULL", "NULL"
	if q.def.Mode.SendsRemoves() {
		removeMissing = "'remove'"
	}
	if q.def.Mode.SendsChanges() {
		change = "'change'"
	}
	return fmt.Sprintf(`SELECT cdp_action, cdp_key, cdp_reason FROM (
  SELECT CASE
      WHEN dup.cdp_key IS NOT NULL THEN NULL
      WHEN v.cdp_key IS NULL THEN %s
      WHEN NOT v.cdp_consent THEN CASE WHEN s.key IS NOT NULL THEN 'remove' END
      WHEN s.key IS NULL THEN 'add'
      WHEN s.row_hash <> v.cdp_hash THEN %s
    END AS cdp_action,
    coalesce(v.cdp_key, s.key) AS cdp_key,
    CASE WHEN v.cdp_key IS NULL THEN 'not in model' WHEN NOT v.cdp_consent THEN 'consent withdrawn' ELSE '' END AS cdp_reason
  FROM (SELECT cdp_key, cdp_consent, %s AS cdp_hash FROM (%s) AS src WHERE cdp_key IS NOT NULL) AS v
  FULL OUTER JOIN %s AS s ON s.key = v.cdp_key
  LEFT JOIN (SELECT cdp_key FROM (%s) AS k WHERE cdp_key IS NOT NULL AND cdp_n > 1) AS dup ON dup.cdp_key = coalesce(v.cdp_key, s.key)
) AS diff
WHERE cdp_action IS NOT NULL`, removeMissing, change, d.MD5Hex(q.payload("src")), q.srcSelect(), q.snapshot(), q.keysSQL())
}

// payload renders the JSON text of the mapped fields of a row of src (cdp_f<i> columns) named
// alias, constants included: what the snapshot stores and its row_hash digests.
func (q *query) payload(alias string) string {
	keys := make([]string, len(q.def.Mapping))
	exprs := make([]string, len(q.def.Mapping))
	for i, f := range q.def.Mapping {
		keys[i] = f.Name
		if f.Column != "" {
			exprs[i] = fmt.Sprintf("%s.cdp_f%d", alias, i)
		} else {
			exprs[i] = q.literal(f.Const)
		}
	}
	return q.d.JSONObjectText(keys, exprs)
}

// materialize stores the plan's rows, (cdp_action, cdp_key, cdp_reason), in table in send
// order: the one pass over the whole model and snapshot that computes every row's digest. Being
// in send order lets the run read the table page by page (see pages).
func (q *query) materialize(ctx context.Context, table string) error {
	if err := q.wh.Exec(ctx, "CREATE TABLE "+table+" AS "+q.diffSQL()+"\nORDER BY "+actionOrder); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	return nil
}

// rowsSQL renders the query of the rows of planned (a relation or subquery of planned rows), in
// send order: action, key, row_hash and payload to commit, previous payload, reason, then the
// mapped columns. Payloads are computed for these rows only, and a remove sends the payload it
// was acknowledged with. The model and the snapshot are first narrowed to the planned keys, so
// that the hash tables are built on the planned rows, however large the snapshot (the engine
// would otherwise build on whichever side it estimates smaller, a snapshot of millions of rows
// for a page of a first sync). A planned key has one row in src at most, since only valid keys
// are planned and the model cannot change while the warehouse is held.
func (q *query) rowsSQL(planned string) string {
	d := q.d
	var b strings.Builder
	b.WriteString(q.srcSQL())
	fcols := func(alias string) string {
		var s strings.Builder
		for i, col := range q.fields {
			if col != "" {
				fmt.Fprintf(&s, ", %s.cdp_f%d", alias, i)
			}
		}
		return s.String()
	}
	fmt.Fprintf(&b, `,
p AS (
  SELECT cdp_action, cdp_key, cdp_reason FROM %s AS planned
)
SELECT cdp_action, cdp_key, CASE WHEN cdp_action = 'remove' THEN cdp_old_hash ELSE %s END AS cdp_hash, cdp_payload, cdp_old, cdp_reason%s
FROM (
  SELECT p.cdp_action, p.cdp_key, p.cdp_reason, s.row_hash AS cdp_old_hash, s.payload AS cdp_old,
    CASE WHEN p.cdp_action = 'remove' THEN s.payload ELSE %s END AS cdp_payload%s
  FROM p
  LEFT JOIN (SELECT * FROM src WHERE cdp_key IN (SELECT cdp_key FROM p)) AS m ON m.cdp_key = p.cdp_key
  LEFT JOIN (SELECT * FROM %s WHERE key IN (SELECT cdp_key FROM p)) AS s ON s.key = p.cdp_key
) AS planned
ORDER BY %s`, planned, d.MD5Hex("cdp_payload"), fcols("planned"), q.payload("m"), fcols("m"), q.snapshot(), actionOrder)
	return b.String()
}

// samplesSQL renders the first n planned rows of each action by key, from table.
func (q *query) samplesSQL(table string, n int) string {
	parts := make([]string, 0, 3)
	for _, a := range []destination.Action{destination.Remove, destination.Change, destination.Add} {
		parts = append(parts, fmt.Sprintf("(SELECT cdp_action, cdp_key, cdp_reason FROM %s WHERE cdp_action = '%s' ORDER BY cdp_key LIMIT %d)", table, a, n))
	}
	return "(" + strings.Join(parts, "\n  UNION ALL ") + ")"
}

// literal renders a constant of the mapping.
func (q *query) literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return q.d.QuoteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
		return "CAST(" + strconv.FormatFloat(x, 'g', -1, 64) + " AS " + q.d.Type("number") + ")"
	case string:
		return q.d.QuoteString(x)
	}
	return q.d.QuoteString(fmt.Sprint(v))
}

// actionOrder sorts planned rows: removes first (a destination with a size limit gets room
// before adds arrive), then changes, then adds, each by key.
const actionOrder = "CASE cdp_action WHEN 'remove' THEN 0 WHEN 'change' THEN 1 ELSE 2 END, cdp_key"

func (q *query) plan(ctx context.Context, opts PlanOptions) (*Plan, error) {
	n := opts.Samples
	if n == 0 {
		n = 5
	}
	p := &Plan{
		Sync: q.def.Name, Model: q.model.String(), Destination: q.def.Destination.Type, Mode: string(q.def.Mode),
		Samples: []Sample{}, Guards: []Violation{}, Invalid: Invalid{Samples: []DuplicateKey{}},
	}
	// Counts come from the keys with their row counts: no pass computes a payload.
	stats := fmt.Sprintf(`SELECT
  coalesce(sum(cdp_n), 0),
  coalesce(sum(CASE WHEN cdp_key IS NULL THEN cdp_n ELSE 0 END), 0),
  coalesce(sum(CASE WHEN cdp_key IS NOT NULL AND cdp_n > 1 THEN cdp_n ELSE 0 END), 0),
  coalesce(sum(CASE WHEN cdp_key IS NOT NULL AND cdp_n > 1 THEN 1 ELSE 0 END), 0),
  coalesce(sum(CASE WHEN cdp_key IS NOT NULL AND cdp_n = 1 THEN cdp_no_consent ELSE 0 END), 0),
  (SELECT count(*) FROM %s)
FROM (%s) AS k`, q.snapshot(), q.keysSQL())
	rows, err := q.wh.Query(ctx, stats)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if rows.Next() {
		err = rows.Scan(&p.ModelRows, &p.Invalid.NullKeys, &p.Invalid.DuplicateRows, &p.Invalid.DuplicateKeys, &p.NoConsent, &p.SnapshotRows)
	}
	if err == nil {
		err = rows.Err()
	}
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if p.Invalid.DuplicateKeys > 0 && n > 0 {
		rows, err := q.wh.Query(ctx, fmt.Sprintf(`
SELECT cdp_key, cdp_n FROM (%s) AS k WHERE cdp_key IS NOT NULL AND cdp_n > 1 ORDER BY cdp_key LIMIT %d`, q.keysSQL(), n))
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
		for rows.Next() {
			var dk DuplicateKey
			if err := rows.Scan(&dk.Key, &dk.Rows); err != nil {
				rows.Close()
				return nil, fmt.Errorf("plan: %w", err)
			}
			p.Invalid.Samples = append(p.Invalid.Samples, dk)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("plan: %w", err)
		}
	}
	// The one pass over everything: the planned rows go to a scratch table, which counts,
	// samples and the run then read.
	table := q.wh.Staged(q.stageName)
	if err := q.wh.DropStaged(ctx, q.stageName); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := q.materialize(ctx, table); err != nil {
		return nil, err
	}
	q.staged = true
	rows, err = q.wh.Query(ctx, "SELECT cdp_action, count(*) FROM "+table+" GROUP BY cdp_action")
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	for rows.Next() {
		var action string
		var count int64
		if err := rows.Scan(&action, &count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("plan: %w", err)
		}
		p.Changes.add(destination.Action(action), count)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if n > 0 && p.HasChanges() {
		if err := q.samples(ctx, table, n, p); err != nil {
			return nil, err
		}
	}
	p.Guards = guards(q.def, p)
	return p, nil
}

// samples reads the first n planned rows of each action by key into p.Samples.
func (q *query) samples(ctx context.Context, table string, n int, p *Plan) error {
	rows, err := q.wh.Query(ctx, q.rowsSQL(q.samplesSQL(table, n)))
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		a := destination.Action(vals[0].(string))
		s := Sample{Action: a, Key: vals[1].(string), Fields: decodePayload(vals[3].(string))}
		switch a {
		case destination.Change:
			if old, ok := vals[4].(string); ok {
				s.Old = decodePayload(old)
			}
		case destination.Remove:
			s.Reason, _ = vals[5].(string)
		}
		p.Samples = append(p.Samples, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	sort.SliceStable(p.Samples, func(i, j int) bool { return sampleOrder(p.Samples[i].Action) < sampleOrder(p.Samples[j].Action) })
	return nil
}

// drop removes the scratch table of the planned rows.
func (q *query) drop(ctx context.Context) error {
	if !q.staged {
		return nil
	}
	q.staged = false
	return q.wh.DropStaged(context.WithoutCancel(ctx), q.stageName)
}

// sampleOrder shows samples as a plan reads best: what is created, changed, then destroyed.
func sampleOrder(a destination.Action) int {
	switch a {
	case destination.Add:
		return 0
	case destination.Change:
		return 1
	}
	return 2
}

// decodePayload reads a snapshot payload (a JSON object) for display; numbers stay exact.
func decodePayload(s string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return map[string]any{"_payload": s}
	}
	return m
}

// guards returns the guards the plan breaks.
func guards(def *syncdef.Def, p *Plan) []Violation {
	out := []Violation{}
	g := def.Guards
	keep := p.ModelRows - p.Invalid.Rows() - p.NoConsent
	if !g.AllowEmpty && keep <= 0 && p.SnapshotRows > 0 {
		out = append(out, Violation{Guard: "allow_empty", Message: fmt.Sprintf(
			"the model has no rows to send but %d row(s) were sent before; applying would empty the destination (set guards.allow_empty: true if that is intended)",
			p.SnapshotRows)})
	}
	share := func(n int64) float64 { return float64(n) / float64(p.SnapshotRows) }
	if g.MaxRemoveShare != nil && p.Changes.Remove > 0 && (p.SnapshotRows == 0 || share(p.Changes.Remove) > *g.MaxRemoveShare) {
		out = append(out, Violation{Guard: "max_remove_share", Message: fmt.Sprintf(
			"%d remove(s) are %s of the %d-row snapshot, more than max_remove_share %s",
			p.Changes.Remove, percent(share(p.Changes.Remove)), p.SnapshotRows, percent(*g.MaxRemoveShare))})
	}
	if g.MaxAddShare != nil && p.SnapshotRows > 0 && share(p.Changes.Add) > *g.MaxAddShare {
		out = append(out, Violation{Guard: "max_add_share", Message: fmt.Sprintf(
			"%d add(s) are %s of the %d-row snapshot, more than max_add_share %s",
			p.Changes.Add, percent(share(p.Changes.Add)), p.SnapshotRows, percent(*g.MaxAddShare))})
	}
	return out
}

func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}
