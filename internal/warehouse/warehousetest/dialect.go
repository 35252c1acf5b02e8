package warehousetest

import (
	"crypto/md5"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

func (s *suite) testQuoteIdent(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	ctx := ctxFor(t)
	for i, name := range s.opts.OddNames {
		r := rel(name)
		mustExec(t, w, "CREATE TABLE "+d.Relation(r)+" (id "+d.Type("integer")+", "+d.QuoteIdent(name)+" "+d.Type("string")+")")
		mustExec(t, w, "INSERT INTO "+d.Relation(r)+" (id, "+d.QuoteIdent(name)+") VALUES ("+fmt.Sprint(i)+", "+d.QuoteString(name)+")")

		cols, err := w.Columns(ctx, r)
		if err != nil {
			t.Errorf("Columns(%q): %v", name, err)
			continue
		}
		if diff := cmp.Diff([]string{"id", name}, columnNames(cols)); diff != "" {
			t.Errorf("Columns(%q) names (-want +got):\n%s", name, diff)
		}
		rows, err := w.Query(ctx, "SELECT "+d.QuoteIdent(name)+" FROM "+d.Relation(r))
		if err != nil {
			t.Errorf("select column %q: %v", name, err)
			continue
		}
		qcols := rows.Columns()
		rows.Close()
		if diff := cmp.Diff([]string{name}, columnNames(qcols)); diff != "" {
			t.Errorf("Rows.Columns for %q (-want +got):\n%s", name, diff)
		}
		got := queryStrings(t, w, "SELECT "+d.QuoteIdent(name)+" FROM "+d.Relation(r)+" WHERE id = "+fmt.Sprint(i))
		if diff := cmp.Diff([]string{name}, got); diff != "" {
			t.Errorf("value in %q (-want +got):\n%s", name, diff)
		}
	}
	// Each name made its own table.
	for _, name := range s.opts.OddNames {
		if n := queryInt(t, w, "SELECT count(*) FROM "+d.Relation(rel(name))); n != 1 {
			t.Errorf("table %q has %d rows, want 1", name, n)
		}
	}
	// Relation quotes the schema too.
	mustExec(t, w, d.CreateSchema("wt_quoted"))
	r := warehouse.Relation{Schema: "wt_quoted", Name: s.opts.OddNames[0]}
	mustExec(t, w, "CREATE TABLE "+d.Relation(r)+" (x "+d.Type("integer")+")")
	if _, err := w.Columns(ctx, r); err != nil {
		t.Errorf("Columns(%s): %v", r, err)
	}
}

func (s *suite) testQuoteString(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	values := []string{
		"it's",
		"''",
		`back\slash`,
		`\`,
		`\'`,
		`\n is not a newline`,
		"line\nbreak",
		"tab\there",
		"ünïcödé ✓ 日本 🎉",
		`"double"`,
		"'; DROP TABLE x; --",
		"%_*?",
		"",
		"  spaces  ",
	}
	var rows [][]string
	for i, v := range values {
		rows = append(rows, []string{fmt.Sprint(i), d.QuoteString(v)})
	}
	got := queryStrings(t, w, "SELECT v FROM "+selectRows("q", []string{"i", "v"}, rows)+" ORDER BY i")
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("QuoteString round trip (-want +got):\n%s", diff)
	}
}

func (s *suite) testType(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	r := d.Relation(rel("typed"))
	mustExec(t, w, "CREATE TABLE "+r+" (id "+d.Type("integer")+", s "+d.Type("string")+", i "+d.Type("integer")+", n "+d.Type("number")+
		", b "+d.Type("boolean")+", ts "+d.Type("timestamp")+", j "+d.Type("json")+")")
	mustExec(t, w, "INSERT INTO "+r+" (id, s, i, n, b, ts, j) SELECT 1, 'text', "+
		d.TryCast("'-9007199254740993'", "integer")+", "+d.TryCast("'0.125'", "number")+", "+
		d.TryCast("'true'", "boolean")+", "+d.TryCast("'2024-02-29 23:59:58.5+02:00'", "timestamp")+", "+
		d.TryCast(`'{"a":[1,"x",null]}'`, "json"))
	mustExec(t, w, "INSERT INTO "+r+" (id) VALUES (2)")

	got := queryValues(t, w, "SELECT s, i, n, b, ts FROM "+r+" ORDER BY id")
	want := [][]any{
		{"text", int64(-9007199254740993), 0.125, true, time.Date(2024, 2, 29, 21, 59, 58, 500_000_000, time.UTC)},
		{nil, nil, nil, nil, nil},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("typed values (-want +got):\n%s", diff)
	}
	var ts time.Time
	queryRow(t, w, "SELECT ts FROM "+r+" WHERE id = 1", &ts)
	if ts.Location() != time.UTC {
		t.Errorf("timestamp scanned in %v, want UTC", ts.Location())
	}
	// JSON keeps its value; compare parsed, since engines may normalise whitespace.
	js := queryStrings(t, w, "SELECT CAST(j AS "+d.Type("string")+") FROM "+r+" ORDER BY id")
	if len(js) != 2 || js[1] != nullMark {
		t.Fatalf("json column = %q, want a value and NULL", js)
	}
	if diff := cmp.Diff(map[string]any{"a": []any{1.0, "x", nil}}, parseJSON(t, js[0])); diff != "" {
		t.Errorf("json value (-want +got):\n%s", diff)
	}
}

func parseJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", text, err)
	}
	return v
}

func (s *suite) testTryCast(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	// Good and bad values share a column, as they do in a raw table: one bad row must not fail
	// the statement.
	for _, tc := range []struct {
		portable string
		in       []string
		want     []string // rendered as text after the cast; nullMark for NULL
	}{
		{"integer", []string{"42", "-7", "abc", "", "1e400", "99999999999999999999", "4.5", " 12 "}, []string{"42", "-7", nullMark, nullMark, nullMark, nullMark, nullMark, "12"}},
		{"number", []string{"1.5", "-0.25", "abc", "", "1.2.3"}, []string{"1.5", "-0.25", nullMark, nullMark, nullMark}},
		{"boolean", []string{"true", "false", "maybe", "", "2"}, []string{"true", "false", nullMark, nullMark, nullMark}},
		{"timestamp", []string{"2024-01-02 03:04:05+00:00", "not a time", "2024-13-45 00:00:00+00:00", ""}, []string{"2024-01-02T03:04:05Z", nullMark, nullMark, nullMark}},
		{"json", []string{`{"a":1}`, `[1,2]`, "not json", `{"a":`}, []string{`{"a":1}`, `[1,2]`, nullMark, nullMark}},
		{"string", []string{"x", ""}, []string{"x", ""}},
	} {
		t.Run(tc.portable, func(t *testing.T) {
			var rows [][]string
			for i, v := range tc.in {
				rows = append(rows, []string{fmt.Sprint(i), d.QuoteString(v)})
			}
			q, err := w.Query(ctxFor(t), "SELECT "+d.TryCast("v", tc.portable)+" FROM "+selectRows("src", []string{"i", "v"}, rows)+" ORDER BY i")
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			var got []string
			for q.Next() {
				got = append(got, scanAsText(t, q, tc.portable))
			}
			if err := q.Err(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TryCast(v, %s) (-want +got):\n%s", tc.portable, diff)
			}
		})
	}
}

// scanNull scans one nullable column of type T and renders it with format, or as nullMark.
func scanNull[T any](rows warehouse.Rows, format func(T) string) (string, error) {
	var v sql.Null[T]
	if err := rows.Scan(&v); err != nil || !v.Valid {
		return nullMark, err
	}
	return format(v.V), nil
}

// scanAsText scans one column of a portable type and renders it for comparison.
func scanAsText(t *testing.T, rows warehouse.Rows, portable string) string {
	t.Helper()
	var text string
	var err error
	switch portable {
	case "integer":
		text, err = scanNull(rows, func(v int64) string { return fmt.Sprint(v) })
	case "number":
		text, err = scanNull(rows, func(v float64) string { return fmt.Sprint(v) })
	case "boolean":
		text, err = scanNull(rows, func(v bool) string { return fmt.Sprint(v) })
	case "timestamp":
		text, err = scanNull(rows, func(v time.Time) string { return v.UTC().Format(time.RFC3339Nano) })
	case "json":
		// Values gives engine-specific JSON values; normalise by marshalling them.
		var vals []any
		vals, err = rows.Values()
		text = nullMark
		if err == nil && vals[0] != nil {
			var b []byte
			switch v := vals[0].(type) {
			case string:
				b = []byte(v)
			default:
				b, err = json.Marshal(v)
			}
			var parsed any
			if err == nil {
				err = json.Unmarshal(b, &parsed)
			}
			if err == nil {
				b, err = json.Marshal(parsed)
			}
			text = string(b)
		}
	default:
		var v sql.NullString
		err = rows.Scan(&v)
		text = nullText(v)
	}
	if err != nil {
		t.Fatalf("scan %s: %v", portable, err)
	}
	return text
}

// jsonDoc is the document the JSON subtests extract from.
const jsonDoc = `{"s":"text","i":42,"neg":-3,"n":1.5,"b":true,"f":false,"z":null,"e":"",` +
	`"o":{"k":"v","deep":{"x":7}},"a":[1,"two"],"Order Id":"A-1","uni":"ü✓","q":"say \"hi\""}`

// skip marks an expectation the contract leaves open (JSONString of objects and arrays).
const skip = "<unspecified>"

// jsonCases is the matrix over jsonDoc: for each dotted path, the JSONType, JSONString and
// JSONValue (as JSON text) it must give; nullMark for SQL NULL.
var jsonCases = []struct {
	path string
	typ  string
	str  string
	val  string
}{
	{"s", "string", "text", `"text"`},
	{"i", "integer", "42", `42`},
	{"neg", "integer", "-3", `-3`},
	{"n", "number", "1.5", `1.5`},
	{"b", "boolean", "true", `true`},
	{"f", "boolean", "false", `false`},
	{"z", "null", nullMark, `null`},
	{"e", "string", "", `""`},
	{"o", "object", skip, `{"k":"v","deep":{"x":7}}`},
	{"a", "array", skip, `[1,"two"]`},
	{"Order Id", "string", "A-1", `"A-1"`},
	{"uni", "string", "ü✓", `"ü✓"`},
	{"q", "string", `say "hi"`, `"say \"hi\""`},
	{"o.k", "string", "v", `"v"`},
	{"o.deep.x", "integer", "7", `7`},
	{"o.deep", "object", skip, `{"x":7}`},
	{"missing", nullMark, nullMark, nullMark},
	{"o.missing", nullMark, nullMark, nullMark},
	{"s.x", nullMark, nullMark, nullMark}, // below a scalar
	{"missing.deeper", nullMark, nullMark, nullMark},
}

// checkJSONText compares JSON text (or nullMark) by value, so whitespace does not matter.
func checkJSONText(t *testing.T, what, want, got string) {
	t.Helper()
	if want == nullMark || got == nullMark {
		if want != got {
			t.Errorf("%s = %s, want %s", what, got, want)
		}
		return
	}
	if diff := cmp.Diff(parseJSON(t, want), parseJSON(t, got)); diff != "" {
		t.Errorf("%s = %s (-want +got):\n%s", what, got, diff)
	}
}

func (s *suite) testJSON(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	for _, tc := range jsonCases {
		t.Run(tc.path, func(t *testing.T) {
			var typ, str, val sql.NullString
			queryRow(t, w, "SELECT "+d.JSONType("doc", tc.path)+", "+d.JSONString("doc", tc.path)+", CAST("+d.JSONValue("doc", tc.path)+" AS "+d.Type("string")+
				") FROM (SELECT "+d.QuoteString(jsonDoc)+" AS doc) AS src", &typ, &str, &val)
			if got := nullText(typ); got != tc.typ {
				t.Errorf("JSONType(%q) = %q, want %q", tc.path, got, tc.typ)
			}
			if got := nullText(str); tc.str != skip && got != tc.str {
				t.Errorf("JSONString(%q) = %q, want %q", tc.path, got, tc.str)
			}
			checkJSONText(t, fmt.Sprintf("JSONValue(%q)", tc.path), tc.val, nullText(val))
		})
	}
}

func (s *suite) testJSONWholeValue(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	for _, tc := range []struct{ doc, typ, str, val string }{
		{`{"a":1}`, "object", skip, `{"a":1}`},
		{`[1,2]`, "array", skip, `[1,2]`},
		{`"x"`, "string", "x", `"x"`},
		{`12`, "integer", "12", `12`},
		{`-0.5`, "number", "-0.5", `-0.5`},
		{`true`, "boolean", "true", `true`},
		{`null`, "null", nullMark, `null`},
	} {
		var typ, str, val sql.NullString
		queryRow(t, w, "SELECT "+d.JSONType("doc", "")+", "+d.JSONString("doc", "")+", CAST("+d.JSONValue("doc", "")+" AS "+d.Type("string")+
			") FROM (SELECT "+d.QuoteString(tc.doc)+" AS doc) AS src", &typ, &str, &val)
		if got := nullText(typ); got != tc.typ {
			t.Errorf("JSONType(%s, \"\") = %q, want %q", tc.doc, got, tc.typ)
		}
		if got := nullText(str); tc.str != skip && got != tc.str {
			t.Errorf("JSONString(%s, \"\") = %q, want %q", tc.doc, got, tc.str)
		}
		checkJSONText(t, fmt.Sprintf("JSONValue(%s, \"\")", tc.doc), tc.val, nullText(val))
	}
}

// testJSONExtractMany checks JSONExtractMany, JSONTypeMany, JSONStringMany and Element against
// the same matrix as JSONType, JSONString and JSONValue, over a column that also holds invalid
// JSON and documents of other shapes (the *Many of types and texts only where JSON is valid,
// as their contract says).
func (s *suite) testJSONExtractMany(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	paths := make([]string, len(jsonCases))
	for i, c := range jsonCases {
		paths[i] = c.path
	}
	many := d.JSONExtractMany("doc", paths)
	types, texts := d.JSONTypeMany("doc", paths), d.JSONStringMany("doc", paths)
	cols := []string{"CASE WHEN " + many + " IS NULL THEN 'no list' ELSE 'list' END"}
	for i := range paths {
		el := d.Element(many, i)
		valid := "CASE WHEN " + many + " IS NOT NULL THEN "
		cols = append(cols, valid+d.Element(types, i)+" END", valid+d.Element(texts, i)+" END", "CAST("+el+" AS "+d.Type("string")+")")
	}
	docs := []string{jsonDoc, "not json", `[1]`, `{"o":{"k":["x"]}}`}
	var src [][]string
	for i, doc := range docs {
		src = append(src, []string{fmt.Sprint(i), d.QuoteString(doc)})
	}
	rows, err := w.Query(ctxFor(t), "SELECT "+strings.Join(cols, ", ")+" FROM "+selectRows("src", []string{"i", "doc"}, src)+" ORDER BY i")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = nullText(v)
		}
		got = append(got, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(docs) {
		t.Fatalf("%d rows, want %d", len(got), len(docs))
	}
	if diff := cmp.Diff([]string{"list", "no list", "list", "list"}, []string{got[0][0], got[1][0], got[2][0], got[3][0]}); diff != "" {
		t.Errorf("JSONExtractMany is NULL only for invalid JSON (-want +got):\n%s", diff)
	}
	// The main document: each element agrees with JSONType, JSONString and JSONValue.
	for i, c := range jsonCases {
		typ, text, val := got[0][1+3*i], got[0][2+3*i], got[0][3+3*i]
		if typ != c.typ {
			t.Errorf("JSONTypeMany of %q = %q, want %q (as JSONType)", c.path, typ, c.typ)
		}
		if c.str == skip { // containers: their JSON text
			checkJSONText(t, fmt.Sprintf("JSONStringMany of %q", c.path), c.val, text)
		} else if text != c.str {
			t.Errorf("JSONStringMany of %q = %q, want %q (as JSONString)", c.path, text, c.str)
		}
		checkJSONText(t, fmt.Sprintf("element %q", c.path), c.val, val)
	}
	// The other documents: every element absent, except o and o.k in the last one.
	for r := 1; r < len(docs); r++ {
		for i, c := range jsonCases {
			typ, val := nullMark, nullMark
			if r == 3 && c.path == "o" {
				typ, val = "object", `{"k":["x"]}`
			}
			if r == 3 && c.path == "o.k" {
				typ, val = "array", `["x"]`
			}
			what := fmt.Sprintf("doc %s, path %q", docs[r], c.path)
			if got[r][1+3*i] != typ {
				t.Errorf("%s: JSONTypeMany = %q, want %q", what, got[r][1+3*i], typ)
			}
			checkJSONText(t, what+": JSONStringMany", val, got[r][2+3*i])
			checkJSONText(t, what+": element", val, got[r][3+3*i])
		}
	}
}

func (s *suite) testJSONObjectValid(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	cases := []struct {
		text string
		want string
	}{
		{`{"a":1}`, "true"},
		{`{}`, "true"},
		{` {"nested":{"x":[1]}} `, "true"},
		{`[1]`, "false"},
		{`"s"`, "false"},
		{`42`, "false"},
		{`null`, "false"},
		{`not json`, "false"},
		{``, "false"},
		{`{"a":`, "false"},
		{`{"a":1}x`, "false"},
	}
	// One column holding valid and invalid rows: invalid text must give false, not fail the query.
	var src [][]string
	var want []string
	for i, c := range cases {
		src = append(src, []string{fmt.Sprint(i), d.QuoteString(c.text)})
		want = append(want, c.want)
	}
	// Selected as a value, not used as a condition: engines may evaluate conditions lazily.
	rows, err := w.Query(ctxFor(t), "SELECT "+d.JSONObjectValid("doc")+" FROM "+selectRows("src", []string{"i", "doc"}, src)+" ORDER BY i")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		got = append(got, scanAsText(t, rows, "boolean"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSONObjectValid (-want +got):\n%s", diff)
	}
}

func (s *suite) testHash(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	exprs := []string{
		d.Hash("'a'", "'1'"),
		d.Hash("'a'", "'1'"),
		d.Hash("'a1'", "''"),
		d.Hash("'1'", "'a'"),
		d.Hash("'b'", "'1'"),
		d.Hash("NULL", "'x'"),
		d.Hash("'x'", "NULL"),
		d.Hash("'ü✓'"),
		d.Hash("CAST(42 AS " + d.Type("integer") + ")"),
	}
	q := "SELECT " + strings.Join(exprs, ", ")
	first := queryValues(t, w, q)
	if len(first) != 1 {
		t.Fatalf("%d rows", len(first))
	}
	h := first[0]
	for i, v := range h {
		if v == nil {
			t.Errorf("hash %d is NULL", i)
		}
	}
	if !cmp.Equal(h[0], h[1]) {
		t.Errorf("same input, different hashes in one statement: %v %v", h[0], h[1])
	}
	distinct := map[string]int{}
	for i, v := range h[1:] {
		k := fmt.Sprintf("%T %v", v, v)
		if j, dup := distinct[k]; dup {
			t.Errorf("hash of %s equals hash of %s", exprs[i+1], exprs[j+1])
		}
		distinct[k] = i
	}
	// The same on a later statement and on another warehouse.
	if diff := cmp.Diff(first, queryValues(t, w, q)); diff != "" {
		t.Errorf("hashes differ between statements (-first +second):\n%s", diff)
	}
	w2 := s.open(t)
	if diff := cmp.Diff(first, queryValues(t, w2, q)); diff != "" {
		t.Errorf("hashes differ between warehouses (-first +second):\n%s", diff)
	}
	// Over a column, rows with equal values hash equally.
	got := queryStrings(t, w, "SELECT CASE WHEN a.h = b.h THEN 'same' ELSE 'different' END FROM "+
		"(SELECT "+d.Hash("v")+" AS h FROM "+selectRows("s1", []string{"v"}, [][]string{{"'k'"}})+") AS a CROSS JOIN "+
		"(SELECT i, "+d.Hash("v")+" AS h FROM "+selectRows("s2", []string{"i", "v"}, [][]string{{"1", "'k'"}, {"2", "'other'"}})+") AS b ORDER BY b.i")
	if diff := cmp.Diff([]string{"same", "different"}, got); diff != "" {
		t.Errorf("hash over a column (-want +got):\n%s", diff)
	}
}

func (s *suite) testNow(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	before := time.Now().Add(-time.Minute)
	var now time.Time
	queryRow(t, w, "SELECT "+d.Now(), &now)
	after := time.Now().Add(time.Minute)
	if now.Before(before) || now.After(after) {
		t.Errorf("Now() = %v, want about %v", now, time.Now())
	}
}

// testVirtualColumn: an engine that offers virtual columns computes them from the row on read;
// one that does not returns "" and callers store the column instead.
func (s *suite) testVirtualColumn(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	def := d.VirtualColumn("ctx", "json", d.JSONValue("payload", "context"))
	if def == "" {
		t.Skip("engine has no virtual columns")
	}
	r := d.Relation(rel("virtual"))
	mustExec(t, w, "CREATE TABLE "+r+" (id "+d.Type("integer")+", payload "+d.Type("string")+", "+def+")")
	mustExec(t, w, "INSERT INTO "+r+` (id, payload) VALUES (1, '{"context":{"ip":"10.0.0.1"}}'), (2, '{}')`)
	got := queryValues(t, w, "SELECT id, "+d.JSONString("ctx", "ip")+" FROM "+r+" ORDER BY id")
	want := [][]any{{int64(1), "10.0.0.1"}, {int64(2), nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("virtual column (-want +got):\n%s", diff)
	}
}

// testRegexp checks RegexpContains, RegexpReplace and MD5Hex: RE2 syntax with backslash classes
// and groups passed through literally, partial matching unless anchored, global replacement.
func (s *suite) testRegexp(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	v := func(s string) string { return "CAST(" + d.QuoteString(s) + " AS " + d.Type("string") + ")" }
	cases := []struct {
		expr string
		want string
	}{
		{"CASE WHEN " + d.RegexpContains(v("guest-42"), `^guest-\d+$`) + " THEN 'y' ELSE 'n' END", "y"},
		{"CASE WHEN " + d.RegexpContains(v("a guest-42"), `^guest-\d+$`) + " THEN 'y' ELSE 'n' END", "n"},
		{"CASE WHEN " + d.RegexpContains(v("a guest-42"), `guest`) + " THEN 'y' ELSE 'n' END", "y"},
		{"CASE WHEN " + d.RegexpContains(v("GUEST"), `(?i)^guest$`) + " THEN 'y' ELSE 'n' END", "y"},
		{"CASE WHEN " + d.RegexpContains(v("it's"), `'`) + " THEN 'y' ELSE 'n' END", "y"},
		{"CASE WHEN " + d.RegexpContains("CAST(NULL AS "+d.Type("string")+")", `x`) + " IS NULL THEN 'null' ELSE 'not null' END", "null"},
		{d.RegexpReplace(v("+1 (415) 555-0134"), `[^0-9]`, ""), "14155550134"},
		{d.RegexpReplace(v("440770"), `^(44|49)0`, `\1`), "44770"},
		{d.RegexpReplace(v("a.b.c"), `\.`, "-"), "a-b-c"},
		{d.MD5Hex(v("email:a@b.com")), fmt.Sprintf("%x", md5.Sum([]byte("email:a@b.com")))},
		{d.MD5Hex(v("")), "d41d8cd98f00b204e9800998ecf8427e"},
	}
	exprs := make([]string, len(cases))
	for i, c := range cases {
		exprs[i] = c.expr
	}
	got := queryStrings(t, w, "SELECT "+strings.Join(exprs, " || '|' || "))
	var want []string
	for _, c := range cases {
		want = append(want, c.want)
	}
	if diff := cmp.Diff([]string{strings.Join(want, "|")}, got); diff != "" {
		t.Errorf("regexp and md5 (-want +got):\n%s", diff)
	}
}

// testDocumentColumn: a document column holds long text exactly, whatever its storage.
func (s *suite) testDocumentColumn(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	r := d.Relation(rel("docs"))
	mustExec(t, w, "CREATE TABLE "+r+" (id "+d.Type("integer")+", body "+d.DocumentColumn()+")")
	long := strings.Repeat(`{"k":"v\u00e9"},`, 2000)
	mustExec(t, w, "INSERT INTO "+r+" (id, body) VALUES (1, "+d.QuoteString(long)+"), (2, NULL)")
	got := queryValues(t, w, "SELECT id, body FROM "+r+" ORDER BY id")
	want := [][]any{{int64(1), long}, {int64(2), nil}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("document column (-want +got):\n%s", diff)
	}
}
