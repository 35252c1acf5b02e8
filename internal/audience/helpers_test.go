package audience

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb/duckdbtest"
)

func openWH(t testing.TB) warehouse.Warehouse { return duckdbtest.Open(t) }

func mustExec(t testing.TB, wh warehouse.Warehouse, sql string) {
	t.Helper()
	duckdbtest.Exec(t, wh, sql)
}

// queryStrings returns each row as its values joined by |, NULL as "NULL".
func queryStrings(t testing.TB, wh warehouse.Warehouse, sql string) []string {
	t.Helper()
	return duckdbtest.Lines(t, wh, sql, func(v any) string {
		switch v := v.(type) {
		case nil:
			return "NULL"
		case time.Time:
			return v.UTC().Format(time.RFC3339)
		}
		return fmt.Sprint(v)
	})
}

// rulesOf decodes YAML rules the way the project reader hands them over (maps, lists, scalars).
func rulesOf(t testing.TB, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// tableModel is a table model node in schema main.
func tableModel(name, sql string, deps ...string) *compile.Node {
	return &compile.Node{
		ID: "model." + name, Kind: compile.KindModel,
		Model:    &project.Model{ID: name, Name: name, Path: "models/" + name + ".sql"},
		Config:   project.Config{Materialized: "table", Enabled: true},
		Relation: warehouse.Relation{Schema: "main", Name: name},
		SQL:      sql, DependsOn: deps,
		Pos: config.Pos{File: "models/" + name + ".sql", Line: 1},
	}
}

// audienceModel is an audience model node whose rules are YAML (or none when rules is "").
func audienceModel(t testing.TB, name, sql, rules string, deps ...string) *compile.Node {
	n := tableModel(name, sql, deps...)
	n.Config.Materialized = Materialization
	n.Model.Path = "models/audiences/" + name + ".sql"
	n.Pos = config.Pos{File: "models/audiences/audiences.yml", Line: 3}
	if rules != "" {
		n.Config.Extra = map[string]any{"audience": rulesOf(t, rules)}
	}
	return n
}

// runNodes runs nodes (in topological order) with fingerprints computed as the compiler would.
func runNodes(t testing.TB, wh warehouse.Warehouse, nodes ...*compile.Node) *run.Summary {
	t.Helper()
	return runWith(t, wh, false, nodes...)
}

// runWith is runNodes with --full-refresh or not.
func runWith(t testing.TB, wh warehouse.Warehouse, fullRefresh bool, nodes ...*compile.Node) *run.Summary {
	t.Helper()
	byID := map[string]*compile.Node{}
	for _, n := range nodes {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00%+v\x00", n.Kind, n.SQL, n.Config)
		for _, p := range n.DependsOn {
			if pn := byID[p]; pn != nil {
				fmt.Fprintf(h, "%s\x00", pn.Fingerprint)
			}
		}
		n.Fingerprint = hex.EncodeToString(h.Sum(nil))
		byID[n.ID] = n
	}
	r := &run.Runner{WH: wh, Threads: 2, Nodes: byID, FullRefresh: fullRefresh}
	sum, err := r.Run(context.Background(), nodes, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func resultOf(t testing.TB, s *run.Summary, id string) run.Result {
	t.Helper()
	for _, r := range s.Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return run.Result{}
}
