package warehouse

import "strings"

// Dialect renders the SQL that differs between engines, so the SQL cdp generates (loads, state,
// materializations, sync plans) stays portable.
type Dialect interface {
	Name() string
	// QuoteIdent quotes one identifier.
	QuoteIdent(name string) string
	// QuoteString renders a string literal.
	QuoteString(s string) string
	// Relation renders a schema-qualified relation name.
	Relation(r Relation) string
	// Type maps a portable type (string, integer, number, boolean, timestamp, json) to the engine's.
	Type(portable string) string
	// TryCast converts expr to a portable type, NULL when it cannot.
	TryCast(expr, portable string) string
	// JSONType is the JSON type at path in expr: 'string', 'integer', 'number', 'boolean',
	// 'object', 'array' or 'null'; NULL when the path is absent. path is a dotted path such as
	// "context.device.id"; "" is the value itself.
	JSONType(expr, path string) string
	// JSONString extracts the value at path as text (strings unquoted), NULL when absent or null.
	JSONString(expr, path string) string
	// JSONValue extracts the value at path as JSON, NULL when absent.
	JSONValue(expr, path string) string
	// JSONObjectValid is true when expr (text) parses as a JSON object.
	JSONObjectValid(expr string) string
	// JSONExtractMany parses text once and returns an array of the JSON values at the dotted
	// paths (NULL elements where a path is absent), or NULL when text is not valid JSON.
	JSONExtractMany(text string, paths []string) string
	// JSONTypeMany parses text (a valid JSON object) once and returns an array of the portable
	// JSON types at the dotted paths (NULL elements where a path is absent), without
	// extracting any value.
	JSONTypeMany(text string, paths []string) string
	// JSONStringMany parses text (a valid JSON object) once and returns an array of the values
	// at the dotted paths as text (strings unquoted).
	JSONStringMany(text string, paths []string) string
	// Element is the i-th (0-based) element of an array expression.
	Element(array string, i int) string
	// Hash renders a stable 64-bit hash of the expressions.
	Hash(exprs ...string) string
	// RegexpContains is true when the RE2 pattern matches somewhere in the text expr (anchor it
	// with ^ and $ for a whole-value match), NULL when expr is NULL.
	RegexpContains(expr, pattern string) string
	// RegexpReplace replaces every match of the RE2 pattern in the text expr; replacement may
	// refer to groups as \1..\9.
	RegexpReplace(expr, pattern, replacement string) string
	// MD5Hex is the MD5 digest of the text expr as 32 lower-case hex digits.
	MD5Hex(expr string) string
	// JSONObjectText renders a JSON object of the keys (in the given order) and value
	// expressions as compact JSON text. The same values give the same text on every call, so
	// its digest can detect changed rows (sync snapshots store it with its MD5Hex).
	JSONObjectText(keys, exprs []string) string
	// StringRows renders a query, usable as a subquery, returning one text column per name and
	// one row per index of columns (columns[i] holds the values of names[i]; all the same
	// length, at least 1). It is the fast way to feed thousands of literal rows to a statement,
	// where a VALUES list of that size takes longer to parse than to run.
	StringRows(names []string, columns [][]string) string
	// Now is the current timestamp.
	Now() string
	// DocumentColumn is the column type (for CREATE/ALTER TABLE only, not casts) of large text
	// documents written once and rarely read whole, such as raw event payloads.
	DocumentColumn() string
	// VirtualColumn renders a column definition computed from other columns at read time, or ""
	// when the engine cannot (the caller then stores the column).
	VirtualColumn(name, portable, expr string) string
	// CreateSchema creates a schema if it does not exist.
	CreateSchema(name string) string
}

// QuoteStandard quotes an identifier with double quotes, doubling embedded quotes (ANSI SQL).
func QuoteStandard(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteStringStandard renders a single-quoted literal, doubling embedded quotes (ANSI SQL).
func QuoteStringStandard(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
