package duckdb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Dialect renders DuckDB SQL.
type Dialect struct{}

var _ warehouse.Dialect = Dialect{}

func (Dialect) Name() string                  { return "duckdb" }
func (Dialect) QuoteIdent(name string) string { return warehouse.QuoteStandard(name) }
func (Dialect) QuoteString(s string) string   { return warehouse.QuoteStringStandard(s) }
func (Dialect) Now() string                   { return "current_timestamp" }

func (Dialect) CreateSchema(name string) string {
	return "CREATE SCHEMA IF NOT EXISTS " + warehouse.QuoteStandard(name)
}

func (d Dialect) Relation(r warehouse.Relation) string {
	if r.Schema == "" {
		return d.QuoteIdent(r.Name)
	}
	return d.QuoteIdent(r.Schema) + "." + d.QuoteIdent(r.Name)
}

var portableTypes = map[string]string{
	"string":    "VARCHAR",
	"integer":   "BIGINT",
	"number":    "DOUBLE",
	"boolean":   "BOOLEAN",
	"timestamp": "TIMESTAMPTZ",
	"json":      "JSON",
	"object":    "JSON",
	"array":     "JSON",
	"any":       "JSON",
	"blob":      "BLOB",
}

func (Dialect) Type(portable string) string {
	if t, ok := portableTypes[portable]; ok {
		return t
	}
	panic(fmt.Sprintf("duckdb: no type for portable type %q", portable))
}

func (d Dialect) TryCast(expr, portable string) string {
	if portable == "integer" {
		// DuckDB rounds '4.5' to 5 when casting to an integer; an integer contract must reject
		// it instead (as BigQuery does), so only whole-number text is cast.
		return "CASE WHEN regexp_full_match(trim(CAST(" + expr + " AS VARCHAR)), '[+-]?[0-9]+') THEN TRY_CAST(" + expr + " AS BIGINT) END"
	}
	return "TRY_CAST(" + expr + " AS " + d.Type(portable) + ")"
}

// jsonPath turns a dotted path into a JSONPath, quoting keys that are not plain identifiers
// (event property names often contain spaces).
func jsonPath(path string) string {
	var b strings.Builder
	b.WriteString("$")
	if path == "" {
		return b.String()
	}
	for _, key := range strings.Split(path, ".") {
		b.WriteByte('.')
		if isPlainKey(key) {
			b.WriteString(key)
		} else {
			b.WriteString(`"` + strings.ReplaceAll(key, `"`, `\"`) + `"`)
		}
	}
	return b.String()
}

func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

// JSONPathLiteral is the SQL literal of the JSONPath for a dotted path.
func JSONPathLiteral(path string) string { return warehouse.QuoteStringStandard(jsonPath(path)) }

func (Dialect) JSONType(expr, path string) string {
	return `CASE json_type(` + expr + `, ` + JSONPathLiteral(path) + `)
		WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'integer' WHEN 'UBIGINT' THEN 'integer'
		WHEN 'DOUBLE' THEN 'number' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object'
		WHEN 'ARRAY' THEN 'array' WHEN 'NULL' THEN 'null' END`
}

func (Dialect) JSONString(expr, path string) string {
	return "json_extract_string(" + expr + ", " + JSONPathLiteral(path) + ")"
}

func (Dialect) JSONValue(expr, path string) string {
	return "json_extract(" + expr + ", " + JSONPathLiteral(path) + ")"
}

func (Dialect) JSONObjectValid(expr string) string {
	// AND does not short-circuit over a column: json_type would see the invalid rows too and fail
	// the whole statement, so it gets NULL for them instead.
	return "(json_valid(" + expr + ") AND json_type(TRY_CAST(" + expr + " AS JSON)) = 'OBJECT')"
}

func (Dialect) Hash(exprs ...string) string {
	return "hash(" + strings.Join(exprs, ", ") + ")"
}

func (Dialect) RegexpContains(expr, pattern string) string {
	return "regexp_matches(" + expr + ", " + warehouse.QuoteStringStandard(pattern) + ")"
}

func (Dialect) RegexpReplace(expr, pattern, replacement string) string {
	return "regexp_replace(" + expr + ", " + warehouse.QuoteStringStandard(pattern) + ", " +
		warehouse.QuoteStringStandard(replacement) + ", 'g')"
}

func (Dialect) MD5Hex(expr string) string { return "md5(" + expr + ")" }

func (Dialect) JSONObjectText(keys, exprs []string) string {
	args := make([]string, 0, 2*len(keys))
	for i, k := range keys {
		args = append(args, warehouse.QuoteStringStandard(k), exprs[i])
	}
	return "CAST(json_object(" + strings.Join(args, ", ") + ") AS VARCHAR)"
}

// StringRows passes each column as one string literal: DuckDB parses a single long string far
// faster than a VALUES list of the same rows (5x for 500 rows). A column whose values contain no
// ASCII record separator (JSON text, hex digests, most keys) is split on it, the fastest; any
// other is a JSON array. unnest zips the lists into rows.
func (d Dialect) StringRows(names []string, columns [][]string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		col := columns[i]
		if !slices.ContainsFunc(col, func(v string) bool { return strings.IndexByte(v, recordSep) >= 0 }) {
			b.WriteString("unnest(string_split(")
			b.WriteString(warehouse.QuoteStringStandard(strings.Join(col, string(rune(recordSep)))))
			b.WriteString(", chr(30))) AS ")
		} else {
			js, _ := json.Marshal(col) // a []string always marshals
			b.WriteString("unnest(from_json(")
			b.WriteString(warehouse.QuoteStringStandard(string(js)))
			b.WriteString(`, '["VARCHAR"]')) AS `)
		}
		b.WriteString(d.QuoteIdent(name))
	}
	return b.String()
}

// recordSep separates the values of a StringRows column (ASCII RS, chr(30)).
const recordSep = 0x1e

func (Dialect) JSONExtractMany(text string, paths []string) string {
	lits := make([]string, len(paths))
	for i, p := range paths {
		lits[i] = JSONPathLiteral(p)
	}
	// Validate first rather than wrap in try(): try() takes DuckDB off its fast path and cost a
	// third of the extraction time in the load benchmark; json_valid is cheap.
	return "CASE WHEN json_valid(" + text + ") THEN json_extract(" + text + ", [" + strings.Join(lits, ", ") + "]) END"
}

func (Dialect) Element(array string, i int) string {
	return fmt.Sprintf("(%s)[%d]", array, i+1)
}

func (d Dialect) VirtualColumn(name, portable, expr string) string {
	return d.QuoteIdent(name) + " " + d.Type(portable) + " GENERATED ALWAYS AS (" + expr + ") VIRTUAL"
}

// DocumentColumn compresses with zstd: for long strings DuckDB's default (FSST) spent most of a
// load's write time compressing payloads; zstd writes them about 3x faster (docs/benchmarks.md).
func (Dialect) DocumentColumn() string { return "VARCHAR USING COMPRESSION zstd" }

func jsonPathList(paths []string) string {
	lits := make([]string, len(paths))
	for i, p := range paths {
		lits[i] = JSONPathLiteral(p)
	}
	return "[" + strings.Join(lits, ", ") + "]"
}

func (Dialect) JSONTypeMany(text string, paths []string) string {
	return "list_transform(json_type(" + text + ", " + jsonPathList(paths) + `), x -> CASE x
		WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'integer' WHEN 'UBIGINT' THEN 'integer'
		WHEN 'DOUBLE' THEN 'number' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object'
		WHEN 'ARRAY' THEN 'array' WHEN 'NULL' THEN 'null' END)`
}

func (Dialect) JSONStringMany(text string, paths []string) string {
	return "json_extract_string(" + text + ", " + jsonPathList(paths) + ")"
}
