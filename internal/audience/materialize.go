package audience

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/progress"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Materialization is the name models use: {{ config(materialized='audience') }}.
const Materialization = "audience"

// HistoryTable is the membership history every audience of a schema shares.
const HistoryTable = "audience_membership_history"

func init() {
	run.RegisterMaterialization(Materialization, Materialize)
	run.RegisterValidator(Materialization, Validate)
	run.RegisterClockCheck(Materialization, readsClock)
}

// historyMu serializes the audiences' updates of their schema's shared history table: two
// audiences committing at once would otherwise race to create it and conflict on it.
var historyMu sync.Mutex

// Materialize builds an audience model: its members into the model's relation (profile_id and
// the included columns) and their entries and exits into the membership history, in one
// transaction with the model's state.
func Materialize(ctx context.Context, b *run.Build) error {
	n := b.Node
	d := b.WH.Dialect()
	r := &resolver{b: b}
	sql, err := compileModel(ctx, b.WH, n, "", r.resolve)
	if err != nil {
		return err
	}

	if err := b.EnsureSchema(ctx); err != nil {
		return err
	}
	tmp := b.Scratch("new")
	if err := b.WH.Exec(ctx, "DROP TABLE IF EXISTS "+d.Relation(tmp)); err != nil {
		return err
	}
	// The SELECT starts on the statement's first line, so engine errors' line numbers are the
	// compiled SQL's.
	if err := b.WH.Exec(ctx, "CREATE TABLE "+d.Relation(tmp)+" AS "+sql); err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b.WH.Exec(ctx, "DROP TABLE IF EXISTS "+d.Relation(tmp))
		}
	}()
	members, err := checkMembers(ctx, b.WH, d.Relation(tmp))
	if err != nil {
		return err
	}

	historyMu.Lock()
	defer historyMu.Unlock()
	h := History(d, b.Relation().Schema)
	if err := b.WH.Exec(ctx, h.Create()); err != nil {
		return fmt.Errorf("create %s: %w", h.Rel, err)
	}
	entered, exited, err := h.Changes(ctx, b.WH, name(n), d.Relation(tmp))
	if err != nil {
		return err
	}
	stmts := h.Apply(name(n), d.Relation(tmp), time.Now().UTC())
	swap, err := b.ReplaceTable(ctx, tmp, b.Relation())
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("%s members (%s entered, %s exited)", progress.Thousands(members), progress.Thousands(entered), progress.Thousands(exited))
	if err := b.Commit(ctx, members, msg, append(stmts, swap...)...); err != nil {
		return err
	}
	committed = true
	return nil
}

// readsClock is why an audience's members move with time alone: a `within` rule counts back
// from the build. Rules that do not parse are left to the build, which reports them.
func readsClock(n *compile.Node) string {
	raw, ok := n.Config.Extra["audience"]
	if !ok || raw == nil {
		return ""
	}
	spec, err := Parse(raw)
	if err != nil {
		return ""
	}
	return spec.ReadsClock()
}

// lookup finds the relation of a model the rules read (what: "events" or "audience").
type lookup func(ctx context.Context, model, what string) (warehouse.Relation, error)

// compileModel parses an audience model's rules and compiles them against its population as
// wh sees it. dir is the project directory, to place rule errors at their lines ("" reads the
// property file from the working directory).
func compileModel(ctx context.Context, wh warehouse.Warehouse, n *compile.Node, dir string, find lookup) (string, error) {
	d := wh.Dialect()
	spec := &Spec{}
	if raw, ok := n.Config.Extra["audience"]; ok && raw != nil {
		var err error
		if spec, err = Parse(raw); err != nil {
			return "", positioned(n, dir, err)
		}
	}
	pop := cleanSQL(n.SQL)
	if pop == "" {
		return "", fmt.Errorf("the model has no SELECT: its SQL is the audience's population; write `select * from {{ ref('profiles') }}` after the config() call")
	}
	cols, err := columnsOf(ctx, wh, pop)
	if err != nil {
		return "", fmt.Errorf("population: %w", err)
	}
	in := Input{Dialect: d, Population: pop, Columns: cols, Audiences: map[string]string{}, Now: spec.AsOf}
	if in.Now.IsZero() {
		in.Now = time.Now().UTC().Truncate(time.Microsecond)
	}
	events, audiences := spec.References()
	if events {
		rel, err := find(ctx, spec.Events, "events")
		if err != nil {
			return "", positioned(n, dir, single("events", "%v", err))
		}
		in.Events = d.Relation(rel)
	}
	for _, a := range audiences {
		if a == name(n) {
			return "", positioned(n, dir, single(audiencePath(spec, a), "the audience refers to itself; refer to other audiences only"))
		}
		rel, err := find(ctx, a, "audience")
		if err != nil {
			return "", positioned(n, dir, single(audiencePath(spec, a), "%v", err))
		}
		in.Audiences[a] = d.Relation(rel)
	}
	sql, err := Compile(spec, in)
	if err != nil {
		return "", positioned(n, dir, err)
	}
	return sql, nil
}

// Validate checks an audience model in `cdp compile`'s scratch database (empty tables of the
// target's engine, models created in order) without building anything: its rules parse, name
// columns the population has with values of their types, and read models the audience
// depends on. It then creates what the audience's readers see there: its relation, as a view
// of the compiled SELECT, and the schema's membership history. dir is the project directory;
// relationOf gives the relation of a node ID ("model.profile_events") as compiled.
func Validate(ctx context.Context, scratch warehouse.Warehouse, dir string, n *compile.Node, relationOf func(nodeID string) (warehouse.Relation, bool)) error {
	find := func(ctx context.Context, model, what string) (warehouse.Relation, error) {
		if err := dependsOn(n, model, what); err != nil {
			return warehouse.Relation{}, err
		}
		if rel, ok := relationOf("model." + model); ok {
			return rel, nil
		}
		return warehouse.Relation{Schema: n.Relation.Schema, Name: model}, nil
	}
	sql, err := compileModel(ctx, scratch, n, dir, find)
	if err != nil {
		return err
	}
	d := scratch.Dialect()
	for _, stmt := range []string{
		d.CreateSchema(n.Relation.Schema),
		"CREATE VIEW " + d.Relation(n.Relation) + " AS " + sql,
		History(d, n.Relation.Schema).Create(),
	} {
		if err := scratch.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// name is the audience's name in the history and in audience: conditions: its model's name.
func name(n *compile.Node) string {
	if n.Model != nil && n.Model.Name != "" {
		return n.Model.Name
	}
	return n.Relation.Name
}

func audiencePath(s *Spec, a string) string {
	path := "where"
	Walk(s.Where, func(c *Cond) {
		if c.Kind == KindAudience && c.Name == a && path == "where" {
			path = join(c.Path, "audience")
		}
	})
	return path
}

// columnsOf describes what a SELECT returns, without running it.
func columnsOf(ctx context.Context, wh warehouse.Warehouse, sql string) ([]warehouse.Column, error) {
	rows, err := wh.Query(ctx, "SELECT * FROM (\n"+sql+"\n) AS p LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := rows.Columns()
	for rows.Next() {
	}
	return cols, rows.Err()
}

// checkMembers counts the members and fails when a profile is missing its id or appears twice.
func checkMembers(ctx context.Context, wh warehouse.Warehouse, rel string) (int64, error) {
	q := wh.Dialect().QuoteIdent(ProfileID)
	rows, err := wh.Query(ctx, "SELECT count(*), count("+q+"), count(DISTINCT "+q+") FROM "+rel)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total, nonNull, distinct int64
	if !rows.Next() {
		return 0, errors.New("counting members: no row")
	}
	if err := rows.Scan(&total, &nonNull, &distinct); err != nil {
		return 0, err
	}
	switch {
	case nonNull < total:
		return 0, fmt.Errorf("%s rows of the population have no %s; every member needs one (filter them out with where %s is not null)",
			progress.Thousands(total-nonNull), ProfileID, ProfileID)
	case distinct < nonNull:
		return 0, fmt.Errorf("the audience has %s rows for %s profiles: the population must have one row per %s (select from profiles, or group by %s)",
			progress.Thousands(nonNull), progress.Thousands(distinct), ProfileID, ProfileID)
	}
	return total, rows.Err()
}

// resolver finds the relations of the models an audience reads besides its population.
type resolver struct {
	b      *run.Build
	states map[string]state.ModelState
}

// resolve finds model name's relation. The audience must depend on it, so that it is built
// first: the compiler only sees refs in SQL, so rules that read a model need a
// `-- depends_on: {{ ref('name') }}` line in the audience's .sql file when its SELECT does not
// already ref it. The relation is where the model was last built, as _cdp.model_state
// records; the model's own schema when nothing is recorded.
func (r *resolver) resolve(ctx context.Context, model, what string) (warehouse.Relation, error) {
	n := r.b.Node
	id := "model." + model
	if err := dependsOn(n, model, what); err != nil {
		return warehouse.Relation{}, err
	}
	if r.states == nil {
		st, err := state.LoadModelStates(ctx, r.b.WH)
		if err != nil {
			return warehouse.Relation{}, err
		}
		r.states = st
	}
	rel := warehouse.Relation{Schema: n.Relation.Schema, Name: model}
	if st, ok := r.states[id]; ok && st.Relation != "" {
		if schema, name, ok := strings.Cut(st.Relation, "."); ok {
			rel = warehouse.Relation{Schema: schema, Name: name}
		}
	}
	ok, err := r.b.Exists(ctx, rel)
	if err != nil {
		return warehouse.Relation{}, err
	}
	if !ok {
		return warehouse.Relation{}, fmt.Errorf("reads %s model %q, but %s does not exist; build it first (cdp run -s +%s)", what, model, rel, name(n))
	}
	return rel, nil
}

// dependsOn checks that the audience depends on a model its rules read.
func dependsOn(n *compile.Node, model, what string) error {
	if slices.Contains(n.DependsOn, "model."+model) {
		return nil
	}
	file := n.Path
	if n.Model != nil && n.Model.Path != "" {
		file = n.Model.Path
	}
	return fmt.Errorf("reads %s model %q, which the audience does not depend on; add the line -- depends_on: {{ ref('%s') }} to %s so that %s is built first",
		what, model, model, file, model)
}

// positioned places rule errors in the project: each at its line in the property file when the
// file can be read (from dir, the project directory; "" is the working directory), else at the
// model's entry.
func positioned(n *compile.Node, dir string, err error) error {
	var rules Errors
	if !errors.As(err, &rules) {
		return err
	}
	loc := newLocator(n, dir)
	out := make(config.Errors, len(rules))
	for i, e := range rules {
		out[i] = &config.Error{Pos: loc.pos(e.Path), Msg: e.Error()}
	}
	return out
}

// locator finds the lines of audience rules in a model's property file.
type locator struct {
	base  config.Pos
	entry *yamlNode
}

func newLocator(n *compile.Node, dir string) *locator {
	l := &locator{base: n.Pos}
	if l.base.File == "" && n.Model != nil {
		l.base = config.Pos{File: n.Model.Path, Line: 1}
	}
	ext := filepath.Ext(l.base.File)
	if ext != ".yml" && ext != ".yaml" {
		return l
	}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(l.base.File)))
	if err != nil {
		return l
	}
	l.entry = findEntry(data, l.base.Line)
	return l
}

// pos is the line of the rule at path (as Error.Path), or the deepest part of it that exists.
func (l *locator) pos(path string) config.Pos {
	if l.entry == nil {
		return l.base
	}
	node := l.entry.get("config").get("audience")
	if node == nil {
		return l.base
	}
	line := node.line()
	for _, seg := range splitPath(path) {
		next := node.get(seg)
		if next == nil {
			break
		}
		node, line = next, next.line()
	}
	return config.Pos{File: l.base.File, Line: line}
}
