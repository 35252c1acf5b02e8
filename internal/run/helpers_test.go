package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb/duckdbtest"
)

func openWH(t testing.TB) warehouse.Warehouse { return duckdbtest.Open(t) }

func mustExec(t testing.TB, wh warehouse.Warehouse, sql string) {
	t.Helper()
	duckdbtest.Exec(t, wh, sql)
}

// source creates a raw table the way a load would: data plus a data version bump.
func source(t testing.TB, wh warehouse.Warehouse, schema, name, selectSQL string) {
	t.Helper()
	ctx := context.Background()
	if err := state.Ensure(ctx, wh); err != nil {
		t.Fatal(err)
	}
	rel := warehouse.Relation{Schema: schema, Name: name}
	d := wh.Dialect()
	if err := wh.ExecAtomic(ctx, d.CreateSchema(schema),
		"CREATE OR REPLACE TABLE "+d.Relation(rel)+" AS "+selectSQL,
		state.BumpDataVersion(d, rel, "test load")); err != nil {
		t.Fatal(err)
	}
}

// appendSource inserts rows into a raw table and bumps its version, like a load.
func appendSource(t testing.TB, wh warehouse.Warehouse, schema, name, selectSQL string) {
	t.Helper()
	rel := warehouse.Relation{Schema: schema, Name: name}
	d := wh.Dialect()
	if err := wh.ExecAtomic(context.Background(), "INSERT INTO "+d.Relation(rel)+" "+selectSQL,
		state.BumpDataVersion(d, rel, "test load")); err != nil {
		t.Fatal(err)
	}
}

func queryStrings(t testing.TB, wh warehouse.Warehouse, sql string) []string {
	t.Helper()
	return duckdbtest.Lines(t, wh, sql, valueText)
}

func queryInt(t testing.TB, wh warehouse.Warehouse, sql string) int64 {
	t.Helper()
	rows, err := wh.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		t.Fatalf("%s: no row", sql)
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// model builds a model node the way the compiler would, in schema main. Fingerprints are set by
// project.
func model(name, materialized, sql string, deps ...string) *compile.Node {
	n := &compile.Node{
		ID: "model." + name, Kind: "model",
		Model:    &project.Model{ID: name, Name: name, Path: "models/" + name + ".sql"},
		Config:   project.Config{Materialized: materialized, Enabled: true},
		Relation: warehouse.Relation{Schema: "main", Name: name},
		SQL:      sql,
		Pos:      config.Pos{File: "models/" + name + ".sql", Line: 1},
	}
	if materialized == "ephemeral" {
		n.Relation = warehouse.Relation{}
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "source:") {
			n.Sources = append(n.Sources, strings.TrimPrefix(d, "source:"))
		} else {
			n.DependsOn = append(n.DependsOn, d)
		}
	}
	slices.Sort(n.DependsOn)
	return n
}

func testNode(name, sql, testOf, severity string) *compile.Node {
	return &compile.Node{
		ID: "test." + name, Kind: "test", SQL: sql, TestOf: testOf,
		DependsOn: []string{testOf},
		Test:      &project.Test{Name: name, Severity: severity, Pos: config.Pos{File: "models/schema.yml", Line: 7}},
		Pos:       config.Pos{File: "models/schema.yml", Line: 7},
	}
}

// project fills in fingerprints the way the compiler does (the node's SQL and config plus its
// parents' fingerprints) and returns the nodes with an ID index. nodes must be in topological
// order.
func projectOf(nodes ...*compile.Node) ([]*compile.Node, map[string]*compile.Node) {
	byID := map[string]*compile.Node{}
	for _, n := range nodes {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%+v\x00", n.Kind, n.SQL, n.IncrementalSQL, n.Config)
		for _, p := range n.DependsOn {
			if pn := byID[p]; pn != nil {
				fmt.Fprintf(h, "%s\x00", pn.Fingerprint)
			}
		}
		n.Fingerprint = hex.EncodeToString(h.Sum(nil))
		byID[n.ID] = n
	}
	return nodes, byID
}

// columns declares model columns from "name:data_type" pairs.
func columns(specs ...string) []*project.Column {
	var out []*project.Column
	for i, s := range specs {
		name, typ, _ := strings.Cut(s, ":")
		out = append(out, &project.Column{Name: name, DataType: typ, Pos: config.Pos{File: "models/schema.yml", Line: 10 + i}})
	}
	return out
}

type recorder struct {
	mu      sync.Mutex
	started []string
	done    []Result
}

func (r *recorder) NodeStarted(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, res.ID)
}

func (r *recorder) NodeDone(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = append(r.done, res)
}

// run runs the nodes with a fresh Runner and returns the summary.
func run(t testing.TB, wh warehouse.Warehouse, nodes []*compile.Node, opts ...func(*Runner)) *Summary {
	t.Helper()
	_, byID := projectOf(nodes...)
	r := &Runner{WH: wh, Threads: 2, Nodes: byID}
	for _, o := range opts {
		o(r)
	}
	sum, err := r.Run(context.Background(), nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func fullRefresh(r *Runner) { r.FullRefresh = true }

// statuses maps node ID to status.
func statuses(s *Summary) map[string]Status {
	out := map[string]Status{}
	for _, r := range s.Results {
		out[r.ID] = r.Status
	}
	return out
}

func result(t testing.TB, s *Summary, id string) Result {
	t.Helper()
	for _, r := range s.Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return Result{}
}
