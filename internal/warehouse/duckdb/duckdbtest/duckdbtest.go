// Package duckdbtest holds the test helpers every package that runs real DuckDB in its tests
// shares: a fresh file-backed warehouse per test, Exec that fails the test, and query results
// as "a|b|c" lines for compact comparisons.
package duckdbtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

// Open returns a new DuckDB warehouse in a file under t.TempDir(), closed when the test ends.
func Open(t testing.TB) warehouse.Warehouse {
	t.Helper()
	wh, err := duckdb.Open(context.Background(), warehouse.Config{Type: "duckdb", Path: filepath.Join(t.TempDir(), "w.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return wh
}

// Exec runs sql or fails the test.
func Exec(t testing.TB, wh warehouse.Warehouse, sql string) {
	t.Helper()
	if err := wh.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Lines runs sql and returns each row as its values, rendered by format, joined with "|".
func Lines(t testing.TB, wh warehouse.Warehouse, sql string, format func(any) string) []string {
	t.Helper()
	rows, err := wh.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = format(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
