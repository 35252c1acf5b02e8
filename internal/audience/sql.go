package audience

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Input is what Compile needs besides the rules: where the data is and what it looks like.
type Input struct {
	Dialect warehouse.Dialect
	// Population is the model's SELECT: one row per profile, with a profile_id column.
	Population string
	// Columns are the population's columns (from a LIMIT 0 query), to check the rules against.
	Columns []warehouse.Column
	// Events is the rendered relation of the events model; needed when a rule tests events.
	Events string
	// Audiences maps an audience's name to its rendered relation, for audience: conditions.
	Audiences map[string]string
	// Now is the time `within` counts back from.
	Now time.Time
}

// ProfileID is the column every population and audience has.
const ProfileID = "profile_id"

// Compile renders the audience as one SELECT over the population: profile_id and the included
// columns of the profiles that meet the rules. Event conditions become correlated EXISTS or
// aggregate subqueries over the events model; `within` becomes a timestamp literal computed
// from Now, so the SQL has no engine-specific date math. Every leaf yields TRUE or FALSE, never
// NULL, so not: is the exact complement of what it negates.
func Compile(s *Spec, in Input) (string, error) {
	c := &compiler{in: in, d: in.Dialect, cols: map[string]warehouse.Column{}}
	for _, col := range in.Columns {
		c.cols[col.Name] = col
		c.names = append(c.names, col.Name)
	}
	if _, ok := c.cols[ProfileID]; !ok {
		return "", single("", "the population has no %s column (it has %s); select one row per profile with its %s, e.g. select * from {{ ref('profiles') }}",
			ProfileID, strings.Join(c.names, ", "), ProfileID)
	}
	var sel []string
	sel = append(sel, "p."+c.d.QuoteIdent(ProfileID))
	include := s.Include
	if include == nil {
		include = c.names
	}
	for i, name := range include {
		if name == ProfileID {
			continue
		}
		if _, ok := c.cols[name]; !ok {
			c.errorf(fmt.Sprintf("include[%d]", i), "%s", c.noColumn(name))
			continue
		}
		if slices.Contains(include[:i], name) {
			continue
		}
		sel = append(sel, "p."+c.d.QuoteIdent(name))
	}
	where := ""
	if s.Where != nil {
		where = c.cond(s.Where, 1)
	}
	if len(c.errs) > 0 {
		return "", c.errs
	}
	var b strings.Builder
	b.WriteString("SELECT\n  " + strings.Join(sel, ",\n  ") + "\nFROM (\n" + cleanSQL(in.Population) + "\n) AS p")
	if where != "" {
		b.WriteString("\nWHERE " + where)
	}
	return b.String(), nil
}

type compiler struct {
	in    Input
	d     warehouse.Dialect
	cols  map[string]warehouse.Column
	names []string
	errs  Errors
}

func (c *compiler) errorf(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) noColumn(name string) string {
	msg := fmt.Sprintf("column %q is not in the population", name)
	if s := config.Suggest(name, c.names); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + " (it has " + strings.Join(c.names, ", ") + ")"
}

func indent(depth int) string { return strings.Repeat("  ", depth) }

// cond renders a condition at an indentation depth.
func (c *compiler) cond(n *Cond, depth int) string {
	if n == nil {
		return "FALSE" // a parse error was reported
	}
	switch n.Kind {
	case KindAll, KindAny:
		if len(n.Children) == 1 {
			return c.cond(n.Children[0], depth)
		}
		sep := "\n" + indent(depth) + "AND "
		if n.Kind == KindAny {
			sep = "\n" + indent(depth) + "OR "
		}
		parts := make([]string, len(n.Children))
		for i, ch := range n.Children {
			parts[i] = c.cond(ch, depth+1)
		}
		return "(" + strings.Join(parts, sep) + ")"
	case KindNot:
		return "NOT " + c.cond(n.Children[0], depth)
	case KindColumn:
		col, ok := c.cols[n.Name]
		if !ok {
			c.errorf(join(n.Path, "column"), "%s", c.noColumn(n.Name))
			return "FALSE"
		}
		expr := "p." + c.d.QuoteIdent(n.Name)
		class := typeClass(col.Type)
		if n.Within > 0 {
			if class != "timestamp" {
				c.errorf(join(n.Path, "within"), "needs a timestamp column; %s is %s", n.Name, col.Type)
				return "FALSE"
			}
			return "coalesce(" + expr + " >= " + c.timestamp(c.in.Now.Add(-n.Within)) + ", FALSE)"
		}
		return c.compare(n, expr, class, col.Type)
	case KindTrait:
		col, ok := c.cols["traits"]
		if !ok {
			c.errorf(join(n.Path, "trait"), "traits are read from the population's traits column (a JSON object), which it lacks; select it, or test a column with column:")
			return "FALSE"
		}
		if cl := typeClass(col.Type); cl != "json" && cl != "string" {
			c.errorf(join(n.Path, "trait"), "traits are read from the population's traits column, which must hold a JSON object, not %s", col.Type)
			return "FALSE"
		}
		return c.compareJSON(n, "p."+c.d.QuoteIdent("traits"))
	case KindProperty:
		return c.compareJSON(n, "e."+c.d.QuoteIdent("properties"))
	case KindAudience:
		rel, ok := c.in.Audiences[n.Name]
		if !ok {
			c.errorf(join(n.Path, "audience"), "audience %q is not known here", n.Name)
			return "FALSE"
		}
		return "EXISTS (SELECT 1 FROM " + rel + " AS a WHERE a." + c.d.QuoteIdent(ProfileID) + " = p." + c.d.QuoteIdent(ProfileID) + ")"
	case KindEvent:
		return c.event(n, depth)
	}
	panic(fmt.Sprintf("audience: condition kind %d", n.Kind))
}

// event renders an event condition as a subquery over the events of the profile.
func (c *compiler) event(n *Cond, depth int) string {
	if c.in.Events == "" {
		c.errorf(join(n.Path, "event"), "event conditions need the events model")
		return "FALSE"
	}
	q := c.d.QuoteIdent
	filters := []string{"e." + q(ProfileID) + " = p." + q(ProfileID)}
	switch len(n.Events) {
	case 0:
	case 1:
		filters = append(filters, "e."+q("event")+" = "+c.d.QuoteString(n.Events[0]))
	default:
		lits := make([]string, len(n.Events))
		for i, e := range n.Events {
			lits[i] = c.d.QuoteString(e)
		}
		filters = append(filters, "e."+q("event")+" IN ("+strings.Join(lits, ", ")+")")
	}
	if n.Within > 0 {
		filters = append(filters, "e."+q("timestamp")+" >= "+c.timestamp(c.in.Now.Add(-n.Within)))
	}
	// Events after the run's time are not counted, so a rebuild with as_of is reproducible.
	filters = append(filters, "e."+q("timestamp")+" <= "+c.timestamp(c.in.Now))
	if n.Where != nil {
		filters = append(filters, c.cond(n.Where, depth+1))
	}
	from := "FROM " + c.in.Events + " AS e\n" + indent(depth) + "WHERE " + strings.Join(filters, "\n"+indent(depth)+"AND ")
	switch n.Agg {
	case "":
		return "EXISTS (\n" + indent(depth) + "SELECT 1 " + from + ")"
	case "count":
		return c.predicate(n, "(\n"+indent(depth)+"SELECT count(*) "+from+")", "number")
	}
	val := c.d.TryCast(c.d.JSONString("e."+q("properties"), n.Of), "number")
	sub := "(\n" + indent(depth) + "SELECT " + n.Agg + "(" + val + ") " + from + ")"
	if n.Agg == "sum" {
		// No events sum to 0, so `sum < 50` holds for a profile without any.
		sub = "coalesce(" + sub + ", 0)"
	}
	return c.predicate(n, sub, "number")
}

// compare renders a comparison of a column of the given type class.
func (c *compiler) compare(n *Cond, expr, class, typ string) string {
	if n.Op == "" {
		return "FALSE"
	}
	vclass := valueClass(n.Value)
	switch {
	case n.Op == "is_null" || n.Op == "not_null":
	case n.Op == "contains" && class != "string":
		c.errorf(join(n.Path, "op"), "contains needs a text column; %s is %s", n.Name, typ)
		return "FALSE"
	case class == "timestamp":
		if vclass != "string" {
			c.errorf(join(n.Path, "value"), "%s is a timestamp column; compare it with a timestamp such as \"2026-11-01\", or use within: 30d", n.Name)
			return "FALSE"
		}
		for _, v := range values(n.Value) {
			if _, err := time.Parse("2006-01-02", v.(string)[:min(10, len(v.(string)))]); err != nil {
				c.errorf(join(n.Path, "value"), "%q is not a timestamp; write 2026-11-01 or 2026-11-01T12:00:00Z", v)
				return "FALSE"
			}
		}
		vclass = "timestamp"
	case class == "number" && vclass != "number", class == "boolean" && vclass != "boolean":
		c.errorf(join(n.Path, "value"), "%s is a %s column (%s) but the value is a %s; write the value as a %s", n.Name, class, typ, vclass, class)
		return "FALSE"
	case class == "string" && vclass != "string":
		c.errorf(join(n.Path, "value"), "%s is a text column (%s); quote the value: \"%v\"", n.Name, typ, n.Value)
		return "FALSE"
	}
	return c.predicate(n, expr, vclass)
}

// compareJSON renders a comparison of a key of a JSON object, cast to the value's type.
func (c *compiler) compareJSON(n *Cond, obj string) string {
	if n.Op == "" {
		return "FALSE"
	}
	expr := c.d.JSONString(obj, n.Name)
	class := valueClass(n.Value)
	switch class {
	case "number", "boolean":
		expr = c.d.TryCast(expr, class)
	}
	return c.predicate(n, expr, class)
}

// predicate applies n's operator to expr. Missing values (NULL) match !=, not_in and is_null
// and nothing else.
func (c *compiler) predicate(n *Cond, expr, class string) string {
	switch n.Op {
	case "is_null":
		return "(" + expr + " IS NULL)"
	case "not_null":
		return "(" + expr + " IS NOT NULL)"
	case "in", "not_in":
		vals := values(n.Value)
		lits := make([]string, len(vals))
		for i, v := range vals {
			lits[i] = c.literal(v, class)
		}
		if n.Op == "in" {
			return "coalesce(" + expr + " IN (" + strings.Join(lits, ", ") + "), FALSE)"
		}
		return "coalesce(" + expr + " NOT IN (" + strings.Join(lits, ", ") + "), TRUE)"
	case "contains":
		return "coalesce(strpos(" + expr + ", " + c.literal(n.Value, "string") + ") > 0, FALSE)"
	case "!=":
		return "coalesce(" + expr + " <> " + c.literal(n.Value, class) + ", TRUE)"
	}
	return "coalesce(" + expr + " " + c.op(n.Op) + " " + c.literal(n.Value, class) + ", FALSE)"
}

func (c *compiler) op(op string) string {
	if op == "!=" {
		return "<>"
	}
	return op
}

// literal renders a YAML value as SQL of the given class.
func (c *compiler) literal(v any, class string) string {
	switch v := v.(type) {
	case string:
		if class == "timestamp" {
			return c.d.TryCast(c.d.QuoteString(v), "timestamp")
		}
		return c.d.QuoteString(v)
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return fmt.Sprint(v)
}

// timestamp renders a UTC timestamp literal.
func (c *compiler) timestamp(t time.Time) string {
	return c.d.TryCast(c.d.QuoteString(t.UTC().Format("2006-01-02 15:04:05.000000")+"+00"), "timestamp")
}

func values(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// valueClass is the class of a value or of a list's elements.
func valueClass(v any) string {
	if l, ok := v.([]any); ok && len(l) > 0 {
		v = l[0]
	}
	if v == nil {
		return "null"
	}
	return scalarClass(v)
}

// typeClass groups engine types: number, string, boolean, timestamp, json or other.
func typeClass(t string) string {
	t = strings.ToUpper(t)
	switch {
	case strings.HasPrefix(t, "DECIMAL"), strings.HasPrefix(t, "NUMERIC"), strings.HasPrefix(t, "BIGNUMERIC"):
		return "number"
	case strings.HasPrefix(t, "TIMESTAMP"), t == "DATE", t == "DATETIME":
		return "timestamp"
	case strings.HasSuffix(t, "[]"), strings.HasPrefix(t, "STRUCT"), strings.HasPrefix(t, "MAP"), strings.HasPrefix(t, "ARRAY"):
		return "other"
	}
	switch t {
	case "TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
		"UHUGEINT", "FLOAT", "DOUBLE", "REAL", "INT64", "FLOAT64":
		return "number"
	case "VARCHAR", "STRING", "TEXT":
		return "string"
	case "BOOLEAN", "BOOL":
		return "boolean"
	case "JSON":
		return "json"
	}
	return "other"
}

// cleanSQL trims a SELECT and its trailing semicolons.
func cleanSQL(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasSuffix(sql, ";") {
		sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	}
	return sql
}
