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
	// JSONType is the JSON type of expr ('string', 'number', 'integer'?, 'boolean', 'object', 'array', 'null'),
	// NULL when the path is absent. path is a dotted path such as "context.device.id".
	JSONType(expr, path string) string
	// JSONString extracts the value at path as text (strings unquoted), NULL when absent or null.
	JSONString(expr, path string) string
	// JSONValue extracts the value at path as JSON, NULL when absent.
	JSONValue(expr, path string) string
	// JSONValid is true when expr (text) parses as a JSON object.
	JSONObjectValid(expr string) string
	// Hash renders a stable 64-bit hash of the expressions.
	Hash(exprs ...string) string
	// Now is the current timestamp.
	Now() string
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
