package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/cdp-dev/cdp/internal/destination"
)

// kind is how values are converted for a column, from its type.
type kind int

const (
	kText    kind = iota // text, varchar(n), char(n), citext
	kInt                 // smallint, integer, bigint
	kFloat               // real, double precision
	kNumeric             // numeric(p,s)
	kBool                // boolean
	kTime                // timestamptz, timestamp, date
	kJSON                // json, jsonb
	kOther               // anything else: sent as text, cast by PostgreSQL
)

// column is one column of the target table.
type column struct {
	table string // the table's quoted name, for the ALTER TABLE a message suggests
	name  string
	typ   string // with modifiers: character varying(10)
	base  string // without: character varying
	kind  kind
	max   int64 // largest value of an integer column
}

func (c *column) classify() {
	c.kind = kOther
	switch c.base {
	case "text", "character varying", "character", "name", "citext", `"char"`:
		c.kind = kText
	case "smallint":
		c.kind, c.max = kInt, math.MaxInt16
	case "integer":
		c.kind, c.max = kInt, math.MaxInt32
	case "bigint":
		c.kind, c.max = kInt, math.MaxInt64
	case "real", "double precision":
		c.kind = kFloat
	case "numeric":
		c.kind = kNumeric
	case "boolean":
		c.kind = kBool
	case "timestamp with time zone", "timestamp without time zone", "date":
		c.kind = kTime
	case "json", "jsonb":
		c.kind = kJSON
	}
}

// wire is the staging table's type for the column: the type its converted values have.
func (c *column) wire() string {
	switch c.kind {
	case kInt:
		return "bigint"
	case kFloat:
		return "double precision"
	case kBool:
		return "boolean"
	case kTime:
		return "timestamptz"
	}
	return "text"
}

// expr turns the staging column src into the column's type. Kinds with an assignment cast from
// their wire type are left to it, because an explicit cast to varchar(n) would truncate where
// the assignment fails loudly.
func (c *column) expr(src string) string {
	switch c.kind {
	case kNumeric, kJSON, kOther:
		return "CAST(" + src + " AS " + c.typ + ")"
	}
	return src
}

// convert turns a field value into the column's wire type, or says why it cannot be stored.
func convert(v any, c *column) (any, string) {
	if v == nil {
		return nil, ""
	}
	switch c.kind {
	case kText, kOther:
		s := destination.FormatValue(v)
		if r := badText(s); r != "" {
			return nil, r
		}
		return s, ""
	case kInt:
		var n int64
		switch x := v.(type) {
		case int64:
			n = x
		case int:
			n = int64(x)
		case int32:
			n = int64(x)
		case float64:
			if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
				return nil, c.mismatch(v)
			}
			n = int64(x)
		case string:
			var err error
			if n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64); err != nil {
				return nil, c.mismatch(v)
			}
		default:
			return nil, c.mismatch(v)
		}
		if n > c.max || n < -c.max-1 {
			return nil, fmt.Sprintf("%d is out of the range of column %s of type %s; widen it: ALTER TABLE %s ALTER COLUMN %s TYPE bigint",
				n, pgx.Identifier{c.name}.Sanitize(), c.typ, c.table, pgx.Identifier{c.name}.Sanitize())
		}
		return n, ""
	case kFloat, kNumeric:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			if c.kind == kNumeric {
				return strconv.FormatInt(x, 10), "" // exact, where a float64 would round
			}
			f = float64(x)
		case int:
			f = float64(x)
		case float32:
			f = float64(x)
		case string:
			var err error
			if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
				return nil, c.mismatch(v)
			}
			if c.kind == kNumeric {
				return strings.TrimSpace(x), ""
			}
		default:
			return nil, c.mismatch(v)
		}
		if c.kind == kNumeric {
			return destination.FormatValue(f), ""
		}
		return f, ""
	case kBool:
		switch x := v.(type) {
		case bool:
			return x, ""
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, ""
			}
		}
		return nil, c.mismatch(v)
	case kTime:
		switch x := v.(type) {
		case time.Time:
			return x, ""
		case string:
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"} {
				if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
					return t, ""
				}
			}
		}
		return nil, c.mismatch(v)
	case kJSON:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Sprintf("cannot be written as JSON for column %s: %v", pgx.Identifier{c.name}.Sanitize(), err)
		}
		s := string(b)
		if strings.Contains(s, `\u0000`) {
			return nil, "holds a NUL character (\\u0000), which PostgreSQL's jsonb cannot store"
		}
		return s, ""
	}
	return nil, c.mismatch(v)
}

// badText says why PostgreSQL cannot store s as text, or "".
func badText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "holds a NUL character (\\x00), which PostgreSQL text cannot store"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8, which PostgreSQL text in a UTF8 database cannot store"
	}
	return ""
}

// mismatch explains a value that does not fit the column, and how to make room for it.
func (c *column) mismatch(v any) string {
	q := pgx.Identifier{c.name}.Sanitize()
	return fmt.Sprintf("cannot store %s in column %s of type %s; map a value of that type, or make the column text, which holds any value: ALTER TABLE %s ALTER COLUMN %s TYPE text",
		describe(v), q, c.typ, c.table, q)
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return "the text " + strconv.Quote(x)
	case bool:
		return "the boolean " + strconv.FormatBool(x)
	case time.Time:
		return "the time " + x.Format(time.RFC3339Nano)
	case int64, int, int32, float64, float32:
		return "the number " + destination.FormatValue(x)
	case []any:
		return "a JSON list"
	case map[string]any:
		return "a JSON object"
	}
	return fmt.Sprintf("a %T", v)
}

// inferType is the column type a new column gets for v; "" for nil, which fits any (a column
// that only ever saw NULLs is made text).
func inferType(v any) string {
	switch v.(type) {
	case nil:
		return ""
	case string:
		return "text"
	case int64, int, int32, int16, int8, uint8, uint16, uint32:
		return "bigint"
	case float64, float32:
		return "double precision"
	case bool:
		return "boolean"
	case time.Time:
		return "timestamptz"
	case []any, map[string]any:
		return "jsonb"
	}
	return "text"
}

// mergeType is the type of a new column whose values have types a and b: integers widen to
// double precision, anything else mixed with JSON is JSON, other mixes are text (which holds
// everything).
func mergeType(a, b string) string {
	switch {
	case a == "" || a == b:
		return b
	case b == "":
		return a
	case (a == "bigint" && b == "double precision") || (a == "double precision" && b == "bigint"):
		return "double precision"
	case a == "jsonb" || b == "jsonb":
		return "jsonb"
	}
	return "text"
}
