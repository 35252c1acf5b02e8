package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// build decides whether a model or seed needs a rebuild and rebuilds it.
func (e *execution) build(ctx context.Context, n *compile.Node, res *Result, startedAt time.Time) {
	fail := func(err error) {
		res.Status, res.Error = StatusError, nodeErr(n, err).Error()
	}
	if n.Relation.Name == "" {
		fail(errors.New("no relation to build into"))
		return
	}
	fingerprint := n.Fingerprint
	var seed *seedFile
	if n.Kind == "seed" {
		var err error
		if seed, err = e.readSeed(n); err != nil {
			fail(err)
			return
		}
		fingerprint = seed.fingerprint
	}
	in := e.inputsOf(n)
	versions := e.currentVersions(in)
	rebuild, why := e.decide(n, fingerprint, in, versions)
	if !rebuild {
		res.Status, res.Message = StatusSkippedUnchanged, why
		return
	}
	b := &builder{e: e, n: n, res: res, startedAt: startedAt, seed: seed,
		record: state.ModelState{NodeID: n.ID, Relation: n.Relation.String(), Fingerprint: fingerprint, InputVersions: versions}}
	var err error
	switch m := materialized(n); m {
	case "view":
		err = b.view(ctx)
	case "table":
		err = b.table(ctx, n.SQL)
	case "incremental":
		err = b.incremental(ctx)
	case "seed":
		err = b.table(ctx, "") // the SELECT comes from the seed file
	default:
		if cm, ok := customMaterialization(m); ok {
			err = b.custom(ctx, cm)
			break
		}
		err = fmt.Errorf("materialization %q is not supported (available: view, table, incremental, ephemeral, %s)", m, strings.Join(Materializations(), ", "))
	}
	if err != nil {
		fail(err)
		return
	}
	res.Status = StatusSuccess
	if res.Message == "" {
		res.Message = why
	} else {
		res.Message += "; " + why
	}
}

// builder builds one node.
type builder struct {
	e         *execution
	n         *compile.Node
	res       *Result
	startedAt time.Time
	record    state.ModelState
	seed      *seedFile // seeds only
	// dataUnchanged: the commit changes no rows (an incremental run that found nothing new),
	// so the data version stays and downstream models can skip.
	dataUnchanged bool
}

// view replaces the view in one transaction: a view with SQL errors fails its CREATE and the
// transaction leaves the old one in place.
func (b *builder) view(ctx context.Context) error {
	e, n, d := b.e, b.n, b.e.d
	if err := e.ensureSchema(ctx, n.Relation); err != nil {
		return err
	}
	sql := cleanSQL(n.SQL)
	if n.Config.ContractEnforced {
		cols, err := queryColumns(ctx, e.wh, sql)
		if err != nil {
			return err
		}
		if err := checkContract(n, cols); err != nil {
			return err
		}
	}
	var stmts []string
	if kind := e.kind(n.Relation); kind == "table" {
		stmts = append(stmts, e.drop(n.Relation, kind))
	}
	stmts = append(stmts, "CREATE OR REPLACE VIEW "+d.Relation(n.Relation)+" AS "+sql)
	if err := b.commit(ctx, stmts, "view"); err != nil {
		return err
	}
	b.res.Message = "created view"
	return nil
}

// table builds the new data into <name>__cdp_tmp next to the target, checks the contract, and
// swaps it in with one transaction: drop the old relation, rename the new one, record the model
// state, the data version and the run log. Until that commits, the old table is untouched, so a
// build that fails (or a process killed mid-build) leaves it readable and complete, and readers
// never see a half-built table. A tmp table left by a killed run is dropped by the next build.
func (b *builder) table(ctx context.Context, sql string) error {
	e, n, d := b.e, b.n, b.e.d
	tmp := tmpRelation(n.Relation)
	if err := b.createTmp(ctx, tmp, sql); err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			b.dropTmp(tmp)
		}
	}()
	if n.Config.ContractEnforced {
		cols, err := e.wh.Columns(ctx, tmp)
		if err != nil {
			return err
		}
		if err := checkContract(n, cols); err != nil {
			return err
		}
	}
	rows, err := countRows(ctx, e.wh, d.Relation(tmp))
	if err != nil {
		return err
	}
	b.res.Rows = rows
	var stmts []string
	if drop := e.drop(n.Relation, e.kind(n.Relation)); drop != "" {
		stmts = append(stmts, drop)
	}
	stmts = append(stmts, "ALTER TABLE "+d.Relation(tmp)+" RENAME TO "+d.QuoteIdent(n.Relation.Name))
	if err := b.commit(ctx, stmts, "table"); err != nil {
		return err
	}
	ok = true
	e.setKind(tmp, "")
	switch {
	case n.Kind == "seed":
		b.res.Message = "loaded seed"
	case materialized(n) == "incremental":
		b.res.Message = "created incremental table"
	default:
		b.res.Message = "created table"
	}
	return nil
}

// createTmp (re)creates the tmp table from sql, or from the seed file for seeds.
func (b *builder) createTmp(ctx context.Context, tmp warehouse.Relation, sql string) error {
	e, n, d := b.e, b.n, b.e.d
	if err := e.ensureSchema(ctx, n.Relation); err != nil {
		return err
	}
	if kind := e.kind(tmp); kind != "" {
		if err := e.wh.Exec(ctx, e.drop(tmp, kind)); err != nil {
			return fmt.Errorf("drop leftover %s: %w", tmp, err)
		}
		e.setKind(tmp, "")
	}
	if b.seed != nil {
		sel, err := e.seedSelect(n, b.seed)
		if err != nil {
			return err
		}
		sql = sel
	} else {
		sql = cleanSQL(sql)
	}
	// The model's SQL starts on the statement's first line, so the engine's LINE numbers are
	// those of the compiled SQL.
	err := e.wh.Exec(ctx, "CREATE TABLE "+d.Relation(tmp)+" AS "+sql)
	if err != nil {
		return err
	}
	e.setKind(tmp, "table")
	return nil
}

// dropTmp removes a tmp table after a failed build, even when ctx was cancelled.
func (b *builder) dropTmp(tmp warehouse.Relation) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.e.wh.Exec(ctx, "DROP TABLE IF EXISTS "+b.e.d.Relation(tmp)); err == nil {
		b.e.setKind(tmp, "")
	}
}

// commit runs the statements that change the data together with the state that describes it:
// model state, a data version bump and the run log entry, in one transaction.
func (b *builder) commit(ctx context.Context, stmts []string, kind string) error {
	e, n, d := b.e, b.n, b.e.d
	b.res.Seconds = time.Since(b.startedAt).Seconds()
	b.res.Status = StatusSuccess
	stmts = append(stmts, state.RecordModelState(d, b.record)...)
	if !b.dataUnchanged {
		stmts = append(stmts, state.BumpDataVersion(d, n.Relation, "build "+n.ID))
	}
	stmts = append(stmts, state.InsertRunLog(d, e.logEntry(n, b.res, b.startedAt)))
	e.swapMu.Lock()
	err := e.wh.ExecAtomic(ctx, stmts...)
	e.swapMu.Unlock()
	if err != nil {
		b.res.Status = ""
		return err
	}
	b.res.logged = true
	e.setKind(n.Relation, kind)
	if !b.dataUnchanged {
		e.mu.Lock()
		e.versions[n.Relation.String()]++
		e.mu.Unlock()
	}
	return nil
}

// cleanSQL strips what cannot follow "CREATE ... AS": surrounding space and trailing semicolons.
func cleanSQL(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	return sql
}

// subquery wraps a SELECT so it can be selected from; the newline keeps a trailing line comment
// in the SQL from swallowing the closing parenthesis.
func subquery(sql string) string {
	return "(" + cleanSQL(sql) + "\n)"
}

func countRows(ctx context.Context, wh warehouse.Warehouse, from string) (int64, error) {
	rows, err := wh.Query(ctx, "SELECT count(*) FROM "+from)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var c int64
	if rows.Next() {
		if err := rows.Scan(&c); err != nil {
			return 0, err
		}
	}
	return c, rows.Err()
}

// queryColumns describes a SELECT's result without running it.
func queryColumns(ctx context.Context, wh warehouse.Warehouse, sql string) ([]warehouse.Column, error) {
	rows, err := wh.Query(ctx, "SELECT * FROM "+subquery(sql)+" AS cdp_q LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns(), nil
}
