package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"

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

// ev is one observation row.
type ev struct {
	id, ts                                     string
	anon, user, email, phone, device, previous string
}

// loadObs replaces main.obs with the events, in the order given.
func loadObs(t testing.TB, wh warehouse.Warehouse, evs []ev) {
	t.Helper()
	mustExec(t, wh, `CREATE OR REPLACE TABLE main.obs (message_id VARCHAR, "timestamp" TIMESTAMPTZ, anonymous_id VARCHAR, user_id VARCHAR, email VARCHAR, phone VARCHAR, device_id VARCHAR, previous_id VARCHAR)`)
	if len(evs) == 0 {
		return
	}
	lit := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	var rows []string
	for _, e := range evs {
		ts := e.ts
		if ts == "" {
			ts = "2026-01-01 00:00:00"
		}
		rows = append(rows, fmt.Sprintf("(%s, TIMESTAMPTZ %s, %s, %s, %s, %s, %s, %s)", lit(e.id), lit(ts+"+00"), lit(e.anon), lit(e.user), lit(e.email), lit(e.phone), lit(e.device), lit(e.previous)))
	}
	for len(rows) > 0 {
		n := min(len(rows), 500)
		mustExec(t, wh, "INSERT INTO main.obs VALUES "+strings.Join(rows[:n], ", "))
		rows = rows[n:]
	}
}

// identityModel is an identity model in schema main, as the compiler would produce it.
func identityModel(name, sql string, rules map[string]any) *compile.Node {
	n := &compile.Node{
		ID: "model." + name, Kind: "model",
		Model:    &project.Model{ID: name, Name: name, Path: "models/" + name + ".sql"},
		Config:   project.Config{Materialized: "identity", Enabled: true},
		Relation: warehouse.Relation{Schema: "main", Name: name},
		SQL:      sql,
		Pos:      config.Pos{File: "models/" + name + ".sql", Line: 1},
	}
	if rules != nil {
		n.Config.Extra = map[string]any{"identity": rules}
	}
	return n
}

// build runs the model (rebuilding it) and returns its result; it fails the test unless the
// build succeeded.
func build(t testing.TB, wh warehouse.Warehouse, n *compile.Node) run.Result {
	t.Helper()
	res := tryBuild(t, wh, n)
	if res.Status != run.StatusSuccess {
		t.Fatalf("build %s: %s: %s", n.ID, res.Status, res.Error)
	}
	return res
}

func tryBuild(t testing.TB, wh warehouse.Warehouse, n *compile.Node) run.Result {
	t.Helper()
	r := &run.Runner{WH: wh, Threads: 1, FullRefresh: true, Nodes: map[string]*compile.Node{n.ID: n}}
	sum, err := r.Run(context.Background(), []*compile.Node{n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range sum.Results {
		if res.ID == n.ID {
			return res
		}
	}
	t.Fatalf("no result for %s", n.ID)
	return run.Result{}
}

func queryStrings(t testing.TB, wh warehouse.Warehouse, sql string) []string {
	t.Helper()
	return duckdbtest.Lines(t, wh, sql, func(v any) string {
		if v == nil {
			return "NULL"
		}
		return fmt.Sprint(v)
	})
}

func queryInt(t testing.TB, wh warehouse.Warehouse, sql string) int64 {
	t.Helper()
	rows, err := wh.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var n *int64
	if !rows.Next() {
		t.Fatalf("%s: no row", sql)
	}
	if err := rows.Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == nil {
		return 0
	}
	return *n
}

// profiles returns the identity map as groups: each profile's identifiers as "type:value",
// sorted, one string per profile, sorted.
func profiles(t testing.TB, wh warehouse.Warehouse, rel string) []string {
	t.Helper()
	return queryStrings(t, wh, "SELECT string_agg(identifier_type || ':' || identifier, ' ' ORDER BY identifier_type, identifier) AS ids FROM "+rel+" GROUP BY profile_id ORDER BY ids")
}

// profileOf is the profile id of one identifier.
func profileOf(t testing.TB, wh warehouse.Warehouse, rel, typ, value string) string {
	t.Helper()
	got := queryStrings(t, wh, "SELECT profile_id FROM "+rel+" WHERE identifier_type = '"+typ+"' AND identifier = '"+value+"'")
	if len(got) != 1 {
		t.Fatalf("%s:%s is in %d rows of %s", typ, value, len(got), rel)
	}
	return got[0]
}
