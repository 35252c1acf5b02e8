package warehousetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Options adapts the suite to an engine.
type Options struct {
	// StreamRows is how many rows the streaming subtest generates (with portable SQL, in
	// order). 0 means 1,000,000.
	StreamRows int
	// OddNames are identifiers the QuoteIdent subtest uses as table and column names. nil means
	// DefaultOddNames; an engine that rejects some characters in names (BigQuery does not allow
	// a double quote) passes its own list of awkward names.
	OddNames []string
}

// DefaultOddNames are identifiers that break naive quoting: spaces, both quote characters,
// non-ASCII letters, a reserved word, a dash and a dot.
var DefaultOddNames = []string{
	"my table",
	`say "hi"`,
	"it's",
	"ünïcödé ✓",
	"select",
	"Order-Id",
	"a.b",
}

// Run runs the conformance suite with default Options. open must return a fresh, empty
// warehouse and close it when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) warehouse.Warehouse) {
	RunWith(t, open, Options{})
}

// RunWith runs the conformance suite with opts.
func RunWith(t *testing.T, open func(t *testing.T) warehouse.Warehouse, opts Options) {
	if opts.StreamRows == 0 {
		opts.StreamRows = 1_000_000
	}
	if opts.OddNames == nil {
		opts.OddNames = DefaultOddNames
	}
	s := &suite{open: open, opts: opts}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"ExecQuery", s.testExecQuery},
		{"QueryArgs", s.testQueryArgs},
		{"QueryEmpty", s.testQueryEmpty},
		{"QueryStream", s.testQueryStream},
		{"QueryEarlyClose", s.testQueryEarlyClose},
		{"QueryCancel", s.testQueryCancel},
		{"Errors", s.testErrors},
		{"ExecAtomic", s.testExecAtomic},
		{"ExecAtomicFailure", s.testExecAtomicFailure},
		{"ExecAtomicCancelled", s.testExecAtomicCancelled},
		{"Columns", s.testColumns},
		{"ColumnsSchema", s.testColumnsSchema},
		{"ColumnsNotFound", s.testColumnsNotFound},
		{"LoadLines", s.testLoadLines},
		{"LoadLinesGzip", s.testLoadLinesGzip},
		{"LoadLinesEdges", s.testLoadLinesEdges},
		{"LoadCSV", s.testLoadCSV},
		{"LoadCSVEdges", s.testLoadCSVEdges},
		{"LoadParquet", s.testLoadParquet},
		{"LoadErrors", s.testLoadErrors},
		{"DropStaged", s.testDropStaged},
		{"QuoteIdent", s.testQuoteIdent},
		{"QuoteString", s.testQuoteString},
		{"Type", s.testType},
		{"TryCast", s.testTryCast},
		{"JSON", s.testJSON},
		{"JSONWholeValue", s.testJSONWholeValue},
		{"JSONObjectValid", s.testJSONObjectValid},
		{"JSONExtractMany", s.testJSONExtractMany},
		{"Hash", s.testHash},
		{"JSONObjectText", s.testJSONObjectText},
		{"StringRows", s.testStringRows},
		{"Regexp", s.testRegexp},
		{"Now", s.testNow},
		{"VirtualColumn", s.testVirtualColumn},
		{"DocumentColumn", s.testDocumentColumn},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	open func(t *testing.T) warehouse.Warehouse
	opts Options
}

// portableTypes are the portable type names every Dialect.Type must map.
var portableTypes = []string{"string", "integer", "number", "boolean", "timestamp", "json"}

// --- helpers ---

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	return t.Context()
}

func mustExec(t *testing.T, w warehouse.Warehouse, query string, args ...any) {
	t.Helper()
	if err := w.Exec(ctxFor(t), query, args...); err != nil {
		t.Fatalf("Exec(%s): %v", query, err)
	}
}

// queryValues runs query and returns every row as Values.
func queryValues(t *testing.T, w warehouse.Warehouse, query string, args ...any) [][]any {
	t.Helper()
	rows, err := w.Query(ctxFor(t), query, args...)
	if err != nil {
		t.Fatalf("Query(%s): %v", query, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatalf("Values(%s): %v", query, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err(%s): %v", query, err)
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("Close(%s): %v", query, err)
	}
	return out
}

// queryRow runs query, which must return exactly one row, and scans it into dest.
func queryRow(t *testing.T, w warehouse.Warehouse, query string, dest ...any) {
	t.Helper()
	rows, err := w.Query(ctxFor(t), query)
	if err != nil {
		t.Fatalf("Query(%s): %v", query, err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("Query(%s): no row (Err: %v)", query, rows.Err())
	}
	if err := rows.Scan(dest...); err != nil {
		t.Fatalf("Scan(%s): %v", query, err)
	}
	if rows.Next() {
		t.Fatalf("Query(%s): more than one row", query)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err(%s): %v", query, err)
	}
}

// queryStrings runs a query with one nullable text column and returns it, "<NULL>" for NULL.
func queryStrings(t *testing.T, w warehouse.Warehouse, query string) []string {
	t.Helper()
	rows, err := w.Query(ctxFor(t), query)
	if err != nil {
		t.Fatalf("Query(%s): %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("Scan(%s): %v", query, err)
		}
		out = append(out, nullText(s))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err(%s): %v", query, err)
	}
	return out
}

const nullMark = "<NULL>"

func nullText(s sql.NullString) string {
	if !s.Valid {
		return nullMark
	}
	return s.String
}

func queryInt(t *testing.T, w warehouse.Warehouse, query string) int64 {
	t.Helper()
	var n int64
	queryRow(t, w, query, &n)
	return n
}

func rel(name string) warehouse.Relation { return warehouse.Relation{Name: name} }

// selectRows renders rows of literals as a portable derived table:
// (SELECT a AS c1, b AS c2 UNION ALL SELECT ...) AS alias.
func selectRows(alias string, cols []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT ")
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(v)
			if i == 0 {
				b.WriteString(" AS " + cols[j])
			}
		}
	}
	b.WriteString(") AS " + alias)
	return b.String()
}

func columnNames(cols []warehouse.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func columnTypes(cols []warehouse.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Type
	}
	return out
}

// stringList converts a list value from Values (engines return []any, []string, ...) to
// []string; nil stays nil.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("%T is not a list", v)
	}
	out := make([]string, rv.Len())
	for i := range out {
		s, ok := rv.Index(i).Interface().(string)
		if !ok {
			return nil, fmt.Errorf("element %d is %T, not string", i, rv.Index(i).Interface())
		}
		out[i] = s
	}
	return out, nil
}

func wantErrContaining(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one naming %q", what, parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name %q", what, err, p)
		}
	}
}

// --- Exec and Query ---

// createPeople makes the small table several subtests use.
func createPeople(t *testing.T, w warehouse.Warehouse) {
	t.Helper()
	d := w.Dialect()
	mustExec(t, w, "CREATE TABLE "+d.Relation(rel("people"))+" (id "+d.Type("integer")+", name "+d.Type("string")+
		", score "+d.Type("number")+", active "+d.Type("boolean")+", seen "+d.Type("timestamp")+")")
	mustExec(t, w, "INSERT INTO "+d.Relation(rel("people"))+" (id, name, score, active, seen) VALUES "+
		"(1, 'ada', 1.5, true, "+d.TryCast("'2024-01-02 03:04:05+00:00'", "timestamp")+"), "+
		"(2, NULL, NULL, NULL, NULL), "+
		"(3, 'grace', -2.25, false, "+d.TryCast("'1999-12-31 23:59:59+00:00'", "timestamp")+")")
}

func (s *suite) testExecQuery(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)

	rows, err := w.Query(ctxFor(t), "SELECT id, name, score, active, seen FROM "+d.Relation(rel("people"))+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols := rows.Columns()
	if diff := cmp.Diff([]string{"id", "name", "score", "active", "seen"}, columnNames(cols)); diff != "" {
		t.Errorf("Columns() names (-want +got):\n%s", diff)
	}
	wantTypes := []string{d.Type("integer"), d.Type("string"), d.Type("number"), d.Type("boolean"), d.Type("timestamp")}
	if diff := cmp.Diff(wantTypes, columnTypes(cols)); diff != "" {
		t.Errorf("Columns() types (-want +got):\n%s", diff)
	}

	// Row 1 through Scan.
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	var (
		id     int64
		name   sql.NullString
		score  sql.NullFloat64
		active sql.NullBool
		seen   sql.NullTime
	)
	if err := rows.Scan(&id, &name, &score, &active, &seen); err != nil {
		t.Fatal(err)
	}
	if id != 1 || name != (sql.NullString{String: "ada", Valid: true}) || score != (sql.NullFloat64{Float64: 1.5, Valid: true}) ||
		active != (sql.NullBool{Bool: true, Valid: true}) || !seen.Valid || !seen.Time.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("row 1 Scan = %v %v %v %v %v", id, name, score, active, seen)
	}
	if err := rows.Scan(&id); err == nil {
		t.Errorf("Scan with 1 destination for 5 columns: no error")
	}

	// Rows 2 and 3 through Values.
	var got [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	want := [][]any{
		{int64(2), nil, nil, nil, nil},
		{int64(3), "grace", -2.25, false, time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Values (-want +got):\n%s", diff)
	}
	if rows.Next() {
		t.Errorf("Next after the last row = true")
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	// Exec runs more than one statement.
	mustExec(t, w, "CREATE TABLE "+d.Relation(rel("two"))+" (n "+d.Type("integer")+"); INSERT INTO "+d.Relation(rel("two"))+" (n) VALUES (7)")
	if n := queryInt(t, w, "SELECT n FROM "+d.Relation(rel("two"))); n != 7 {
		t.Errorf("after a two-statement Exec: n = %d, want 7", n)
	}
}

func (s *suite) testQueryArgs(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	mustExec(t, w, "INSERT INTO "+d.Relation(rel("people"))+" (id, name) VALUES (?, ?)", int64(4), "it's ?")
	got := queryValues(t, w, "SELECT id, name FROM "+d.Relation(rel("people"))+" WHERE id >= ? AND name <> ? ORDER BY id", int64(3), "x")
	want := [][]any{{int64(3), "grace"}, {int64(4), "it's ?"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query with args (-want +got):\n%s", diff)
	}
}

func (s *suite) testQueryEmpty(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	rows, err := w.Query(ctxFor(t), "SELECT id, name FROM "+d.Relation(rel("people"))+" WHERE id < 0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if diff := cmp.Diff([]string{"id", "name"}, columnNames(rows.Columns())); diff != "" {
		t.Errorf("Columns() of an empty result (-want +got):\n%s", diff)
	}
	if rows.Next() {
		t.Errorf("Next on an empty result = true")
	}
	if err := rows.Err(); err != nil {
		t.Errorf("Err: %v", err)
	}
}

// rangeSQL generates the integers 0..n-1 in order, with their text, in portable SQL: a
// ten-row digits table cross-joined with itself once per decimal digit.
func rangeSQL(d warehouse.Dialect, n int, ordered bool) string {
	digits := 1
	for p := 10; p < n; p *= 10 {
		digits++
	}
	var b strings.Builder
	b.WriteString("WITH digits AS (SELECT 0 AS v")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, " UNION ALL SELECT %d", i)
	}
	b.WriteString(")\nSELECT n, CAST(n AS " + d.Type("string") + ") AS s FROM (SELECT ")
	p := 1
	for i := range digits {
		if i > 0 {
			b.WriteString(" + ")
		}
		fmt.Fprintf(&b, "d%d.v * %d", i, p)
		p *= 10
	}
	b.WriteString(" AS n FROM digits AS d0")
	for i := 1; i < digits; i++ {
		fmt.Fprintf(&b, " CROSS JOIN digits AS d%d", i)
	}
	fmt.Fprintf(&b, ") AS g WHERE n < %d", n)
	if ordered {
		b.WriteString(" ORDER BY n")
	}
	return b.String()
}

func (s *suite) testQueryStream(t *testing.T) {
	w := s.open(t)
	n := s.opts.StreamRows
	rows, err := w.Query(ctxFor(t), rangeSQL(w.Dialect(), n, true))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var i int64
	for rows.Next() {
		var got int64
		var text string
		if err := rows.Scan(&got, &text); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if got != i || text != fmt.Sprint(i) {
			t.Fatalf("row %d = (%d, %q), want (%d, %q)", i, got, text, i, fmt.Sprint(i))
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("Err after %d rows: %v", i, err)
	}
	if i != int64(n) {
		t.Fatalf("streamed %d rows, want %d", i, n)
	}
	if err := rows.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (s *suite) testQueryEarlyClose(t *testing.T) {
	w := s.open(t)
	rows, err := w.Query(ctxFor(t), rangeSQL(w.Dialect(), s.opts.StreamRows, true))
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(3) {
		var n int64
		var text string
		if !rows.Next() {
			t.Fatalf("row %d missing: %v", i, rows.Err())
		}
		if err := rows.Scan(&n, &text); err != nil || n != i {
			t.Fatalf("row %d = %d, %v", i, n, err)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatalf("early Close: %v", err)
	}
	if err := rows.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if rows.Next() {
		t.Errorf("Next after Close = true")
	}
	if err := rows.Err(); err != nil {
		t.Errorf("Err after early Close: %v", err)
	}
	// The warehouse is usable afterwards, many times over (no leaked connection or result).
	for range 20 {
		r, err := w.Query(ctxFor(t), rangeSQL(w.Dialect(), 1000, true))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Next() {
			t.Fatalf("no row: %v", r.Err())
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, w, "SELECT count(*) FROM ("+rangeSQL(w.Dialect(), 1000, false)+") AS r"); n != 1000 {
		t.Errorf("count after early closes = %d, want 1000", n)
	}
}

func (s *suite) testQueryCancel(t *testing.T) {
	w := s.open(t)
	ctx, cancel := context.WithCancel(ctxFor(t))
	defer cancel()
	n := s.opts.StreamRows
	rows, err := w.Query(ctx, rangeSQL(w.Dialect(), n, true))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	cancel()
	got := 1
	for rows.Next() {
		got++
	}
	if got >= n {
		t.Errorf("all %d rows arrived after the context was cancelled", got)
	}
	if err := rows.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after cancel = %v, want one wrapping context.Canceled", err)
	}
	if v := queryInt(t, w, "SELECT 1"); v != 1 {
		t.Errorf("SELECT 1 after a cancelled query = %d", v)
	}
}

func (s *suite) testErrors(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	ctx := ctxFor(t)

	err := w.Exec(ctx, "INSERT INTO "+d.Relation(rel("no_such_table_x1"))+" (id) VALUES (1)")
	wantErrContaining(t, "Exec into a missing table", err, "no_such_table_x1")

	_, err = w.Query(ctx, "SELECT * FROM "+d.Relation(rel("no_such_table_x2")))
	wantErrContaining(t, "Query of a missing table", err, "no_such_table_x2")

	_, err = w.Query(ctx, "SELECT no_such_column_x3 FROM "+d.Relation(rel("people")))
	wantErrContaining(t, "Query of a missing column", err, "no_such_column_x3")

	err = w.Exec(ctx, "SELEC 1")
	wantErrContaining(t, "syntax error", err, "SELEC")

	// Still usable after errors.
	if n := queryInt(t, w, "SELECT count(*) FROM "+d.Relation(rel("people"))); n != 3 {
		t.Errorf("count after errors = %d, want 3", n)
	}
}

// --- ExecAtomic ---

func ids(t *testing.T, w warehouse.Warehouse, table string) []string {
	t.Helper()
	d := w.Dialect()
	return queryStrings(t, w, "SELECT CAST(id AS "+d.Type("string")+") || ':' || COALESCE(name, '') FROM "+d.Relation(rel(table))+" ORDER BY id")
}

func (s *suite) testExecAtomic(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	p := d.Relation(rel("people"))
	err := w.ExecAtomic(ctxFor(t),
		"INSERT INTO "+p+" (id, name) VALUES (4, 'new')",
		"UPDATE "+p+" SET name = 'ADA' WHERE id = 1",
		"DELETE FROM "+p+" WHERE id = 2",
	)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:ADA", "3:grace", "4:new"}, ids(t, w, "people")); diff != "" {
		t.Errorf("after ExecAtomic (-want +got):\n%s", diff)
	}
	if err := w.ExecAtomic(ctxFor(t)); err != nil {
		t.Errorf("ExecAtomic with no statements: %v", err)
	}
}

func (s *suite) testExecAtomicFailure(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	p := d.Relation(rel("people"))
	before := ids(t, w, "people")

	err := w.ExecAtomic(ctxFor(t),
		"INSERT INTO "+p+" (id, name) VALUES (4, 'new')",
		"UPDATE "+p+" SET name = 'changed'",
		"DELETE FROM "+p+" WHERE id = 3",
		"INSERT INTO "+d.Relation(rel("no_such_table_x4"))+" (id) VALUES (1)",
		"INSERT INTO "+p+" (id, name) VALUES (5, 'never')",
	)
	wantErrContaining(t, "ExecAtomic with a failing statement", err, "no_such_table_x4")
	if diff := cmp.Diff(before, ids(t, w, "people")); diff != "" {
		t.Errorf("table changed by a failed ExecAtomic (-before +after):\n%s", diff)
	}

	// A failure in the first statement, too.
	err = w.ExecAtomic(ctxFor(t), "UPDATE "+p+" SET no_such_column_x5 = 1", "DELETE FROM "+p)
	wantErrContaining(t, "ExecAtomic failing first", err, "no_such_column_x5")
	if diff := cmp.Diff(before, ids(t, w, "people")); diff != "" {
		t.Errorf("table changed by a failed ExecAtomic (-before +after):\n%s", diff)
	}

	// Usable afterwards: plain Exec, Query and another ExecAtomic all work and commit.
	mustExec(t, w, "INSERT INTO "+p+" (id, name) VALUES (6, 'exec')")
	if err := w.ExecAtomic(ctxFor(t), "INSERT INTO "+p+" (id, name) VALUES (7, 'atomic')", "DELETE FROM "+p+" WHERE id = 2"); err != nil {
		t.Fatalf("ExecAtomic after a failed one: %v", err)
	}
	if diff := cmp.Diff([]string{"1:ada", "3:grace", "6:exec", "7:atomic"}, ids(t, w, "people")); diff != "" {
		t.Errorf("after recovery (-want +got):\n%s", diff)
	}
}

func (s *suite) testExecAtomicCancelled(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	createPeople(t, w)
	p := d.Relation(rel("people"))
	before := ids(t, w, "people")
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	err := w.ExecAtomic(ctx, "INSERT INTO "+p+" (id, name) VALUES (4, 'new')", "DELETE FROM "+p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ExecAtomic with a cancelled context = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(before, ids(t, w, "people")); diff != "" {
		t.Errorf("table changed by a cancelled ExecAtomic (-before +after):\n%s", diff)
	}
}

// --- Columns ---

func (s *suite) testColumns(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	ctx := ctxFor(t)
	var defs []string
	var want []warehouse.Column
	for _, p := range portableTypes {
		defs = append(defs, "c_"+p+" "+d.Type(p))
		want = append(want, warehouse.Column{Name: "c_" + p, Type: d.Type(p), Nullable: true})
	}
	defs = append([]string{"z_required " + d.Type("string") + " NOT NULL"}, defs...)
	want = append([]warehouse.Column{{Name: "z_required", Type: d.Type("string"), Nullable: false}}, want...)
	mustExec(t, w, "CREATE TABLE "+d.Relation(rel("typed"))+" ("+strings.Join(defs, ", ")+")")

	got, err := w.Columns(ctx, rel("typed"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Columns (-want +got):\n%s", diff)
	}

	// Query reports the same names and types.
	rows, err := w.Query(ctx, "SELECT * FROM "+d.Relation(rel("typed")))
	if err != nil {
		t.Fatal(err)
	}
	qcols := rows.Columns()
	rows.Close()
	if diff := cmp.Diff(columnNames(want), columnNames(qcols)); diff != "" {
		t.Errorf("Rows.Columns names differ from Columns (-Columns +Rows):\n%s", diff)
	}
	if diff := cmp.Diff(columnTypes(want), columnTypes(qcols)); diff != "" {
		t.Errorf("Rows.Columns types differ from Columns (-Columns +Rows):\n%s", diff)
	}

	// A view is a relation too.
	mustExec(t, w, "CREATE VIEW "+d.Relation(rel("typed_v"))+" AS SELECT c_integer AS n, c_string FROM "+d.Relation(rel("typed")))
	got, err = w.Columns(ctx, rel("typed_v"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"n", "c_string"}, columnNames(got)); diff != "" {
		t.Errorf("Columns of a view (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{d.Type("integer"), d.Type("string")}, columnTypes(got)); diff != "" {
		t.Errorf("Columns types of a view (-want +got):\n%s", diff)
	}
}

func (s *suite) testColumnsSchema(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	ctx := ctxFor(t)
	mustExec(t, w, d.CreateSchema("wt_other"))
	mustExec(t, w, d.CreateSchema("wt_other")) // idempotent
	mustExec(t, w, "CREATE TABLE "+d.Relation(rel("t"))+" (a "+d.Type("integer")+")")
	other := warehouse.Relation{Schema: "wt_other", Name: "t"}
	mustExec(t, w, "CREATE TABLE "+d.Relation(other)+" (b "+d.Type("string")+", c "+d.Type("boolean")+")")
	mustExec(t, w, "INSERT INTO "+d.Relation(other)+" (b, c) VALUES ('in other', true)")

	got, err := w.Columns(ctx, rel("t"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a"}, columnNames(got)); diff != "" {
		t.Errorf("Columns(t) (-want +got):\n%s", diff)
	}
	got, err = w.Columns(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"b", "c"}, columnNames(got)); diff != "" {
		t.Errorf("Columns(wt_other.t) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"in other"}, queryStrings(t, w, "SELECT b FROM "+d.Relation(other))); diff != "" {
		t.Errorf("query of wt_other.t (-want +got):\n%s", diff)
	}
	if _, err := w.Columns(ctx, warehouse.Relation{Schema: "wt_other", Name: "a_missing"}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("Columns(wt_other.a_missing) = %v, want ErrNotFound", err)
	}
}

func (s *suite) testColumnsNotFound(t *testing.T) {
	w := s.open(t)
	ctx := ctxFor(t)
	for _, r := range []warehouse.Relation{
		{Name: "no_such_table"},
		{Schema: "no_such_schema", Name: "no_such_table"},
	} {
		cols, err := w.Columns(ctx, r)
		if !errors.Is(err, warehouse.ErrNotFound) {
			t.Errorf("Columns(%s) = %v, %v; want ErrNotFound", r, cols, err)
		}
	}
}
