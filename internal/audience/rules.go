package audience

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/config"
)

// Spec is an audience's rules: the audience: mapping of its model's config.
type Spec struct {
	// Include are the population columns the audience table keeps after profile_id; nil keeps
	// every column of the population.
	Include []string
	// Where selects the members; nil takes the whole population.
	Where *Cond
	// Events names the model event conditions read: (profile_id, event, timestamp, properties).
	Events string
	// AsOf fixes the time `within` counts back from; zero means the time of the run.
	AsOf time.Time
}

// Kind is what a condition tests.
type Kind int

const (
	KindAll      Kind = iota // every child holds
	KindAny                  // at least one child holds
	KindNot                  // the child does not hold
	KindColumn               // a column of the population
	KindTrait                // a key of the population's traits JSON
	KindProperty             // a key of an event's properties JSON (inside an event's where)
	KindEvent                // the profile's events
	KindAudience             // membership of another audience
)

// Cond is one node of a condition tree.
type Cond struct {
	Kind Kind
	// Path locates the condition in the rules ("where.all[2]"), for errors.
	Path     string
	Children []*Cond // all, any; not has one
	// Name is the column, the trait or property path (dotted), or the audience.
	Name string
	// Op and Value compare a column, trait or property, an event aggregate, or an event count.
	Op    string
	Value any
	// Within keeps events (or a timestamp column's values) no older than this before the run.
	Within time.Duration
	// Event conditions.
	Events []string
	Where  *Cond  // a condition on the event's properties
	Agg    string // "" (the profile has such an event), count, sum, avg, min, max
	Of     string // the property aggregated by sum, avg, min, max
}

// Operators are the comparisons a leaf can make.
var Operators = []string{"=", "!=", ">", ">=", "<", "<=", "in", "not_in", "is_null", "not_null", "contains"}

var aggregates = []string{"sum", "avg", "min", "max"}

// Error is a problem with an audience's rules, at a path inside the audience: mapping.
type Error struct {
	Path string // "where.all[2].op"; "" for the mapping itself
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return "audience: " + e.Msg
	}
	return "audience." + e.Path + ": " + e.Msg
}

// Errors are every problem found in one audience's rules.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

type parser struct{ errs Errors }

func (p *parser) errorf(path, format string, args ...any) {
	p.errs = append(p.errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Parse reads an audience: mapping as YAML (or a config() call) decoded it. Every problem is
// reported, as Errors.
func Parse(v any) (*Spec, error) {
	p := &parser{}
	s := &Spec{Events: "profile_events"}
	m, ok := p.mapping("", v, []string{"include", "where", "events", "as_of", "from"})
	if !ok {
		return nil, p.errs
	}
	for _, k := range sortedKeys(m) {
		val := m[k]
		switch k {
		case "include":
			// An empty list keeps profile_id only; no include keeps every column.
			if val != nil {
				s.Include = append([]string{}, p.names(k, val)...)
			}
		case "where":
			s.Where = p.cond(k, val, false)
		case "events":
			if name, ok := p.str(k, val); ok {
				s.Events = name
			}
		case "as_of":
			s.AsOf = p.time(k, val)
		case "from":
			p.errorf(k, "is not a key: the population is the model's SQL; write `select * from {{ ref('%v') }}` in its .sql file and remove from", val)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return s, nil
}

// mapping checks v is a mapping whose keys are among known (suggesting the closest for others).
func (p *parser) mapping(path string, v any, known []string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		what := "the audience rules"
		if path != "" {
			what = "a condition"
		}
		p.errorf(path, "must be a mapping (%s), got %s", what, describe(v))
		return nil, false
	}
	good := true
	for _, k := range sortedKeys(m) {
		if slices.Contains(known, k) {
			continue
		}
		good = false
		if s := config.Suggest(k, known); s != "" {
			p.errorf(join(path, k), "unknown key; did you mean %q?", s)
		} else {
			p.errorf(join(path, k), "unknown key; use %s", strings.Join(known, ", "))
		}
	}
	return m, good
}

func (p *parser) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		p.errorf(path, "must be a non-empty string, got %s", describe(v))
		return "", false
	}
	return s, true
}

// names reads one name or a list of them.
func (p *parser) names(path string, v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if s, ok := p.str(path, v); ok {
			return []string{s}
		}
		return nil
	case []any:
		var out []string
		for i, e := range v {
			if s, ok := p.str(fmt.Sprintf("%s[%d]", path, i), e); ok {
				out = append(out, s)
			}
		}
		return out
	}
	p.errorf(path, "must be a name or a list of names, got %s", describe(v))
	return nil
}

func (p *parser) time(path string, v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v.UTC()
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC()
			}
		}
	case nil:
		return time.Time{}
	}
	p.errorf(path, "must be a timestamp like 2026-11-01 or 2026-11-01T12:00:00Z, got %s", describe(v))
	return time.Time{}
}

// ParseDuration reads a `within` duration: a whole number followed by m (minutes), h (hours),
// d (days) or w (weeks): 30d, 12h, 2w.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a duration; write a number and a unit: 30d, 12h, 90m, 2w", s)
	}
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if unit == 0 || err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a duration; write a positive whole number and a unit (m, h, d, w): 30d, 12h, 90m, 2w", s)
	}
	return time.Duration(n) * unit, nil
}

// FormatDuration writes d the way ParseDuration reads it, in the largest unit that divides it.
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		unit string
	}{{7 * 24 * time.Hour, "w"}, {24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.unit
		}
	}
	return d.String()
}

var (
	boolKeys     = []string{"all", "any", "not"}
	leafKeys     = []string{"op", "value"}
	columnKeys   = []string{"column", "op", "value", "within"}
	traitKeys    = []string{"trait", "op", "value"}
	propertyKeys = []string{"property", "op", "value"}
	eventKeys    = []string{"event", "within", "where", "count", "sum", "avg", "min", "max", "op", "value"}
	kinds        = []string{"all", "any", "not", "column", "trait", "event", "audience"}
)

// cond reads one condition. inEvent is true inside an event's where:, where leaves are event
// properties.
func (p *parser) cond(path string, v any, inEvent bool) *Cond {
	m, ok := v.(map[string]any)
	if !ok {
		p.errorf(path, "must be a condition (a mapping such as {column: total_spend, op: \">=\", value: 100}), got %s", describe(v))
		return nil
	}
	var heads []string
	for _, k := range []string{"all", "any", "not", "column", "trait", "property", "event", "audience"} {
		if _, ok := m[k]; ok {
			heads = append(heads, k)
		}
	}
	allowed := kinds
	if inEvent {
		allowed = []string{"all", "any", "not", "property"}
	}
	switch {
	case len(heads) == 0:
		keys := sortedKeys(m)
		for _, k := range keys {
			if s := config.Suggest(k, allowed); s != "" {
				p.errorf(join(path, k), "unknown key; did you mean %q?", s)
				return nil
			}
		}
		p.errorf(path, "says nothing to test (keys: %s); start it with one of %s", strings.Join(keys, ", "), strings.Join(allowed, ", "))
		return nil
	case len(heads) > 1:
		p.errorf(path, "has both %s and %s; put each in its own condition under all: or any:", heads[0], heads[1])
		return nil
	}
	head := heads[0]
	if !slices.Contains(allowed, head) {
		if inEvent {
			p.errorf(join(path, head), "is not allowed inside an event's where:, which tests the event's properties: use {property: name, op: ..., value: ...}")
		} else {
			p.errorf(join(path, head), "is only allowed inside an event's where:; to test a profile use column: or trait:")
		}
		return nil
	}
	c := &Cond{Path: path}
	switch head {
	case "all", "any":
		c.Kind = KindAll
		if head == "any" {
			c.Kind = KindAny
		}
		if _, ok := p.mapping(path, m, boolKeys); !ok {
			return nil
		}
		list, ok := m[head].([]any)
		if !ok || len(list) == 0 {
			p.errorf(join(path, head), "must be a non-empty list of conditions, got %s", describe(m[head]))
			return nil
		}
		for i, e := range list {
			c.Children = append(c.Children, p.cond(fmt.Sprintf("%s.%s[%d]", path, head, i), e, inEvent))
		}
	case "not":
		c.Kind = KindNot
		if _, ok := p.mapping(path, m, boolKeys); !ok {
			return nil
		}
		c.Children = []*Cond{p.cond(join(path, "not"), m["not"], inEvent)}
	case "audience":
		c.Kind = KindAudience
		if _, ok := p.mapping(path, m, []string{"audience"}); !ok {
			return nil
		}
		c.Name, _ = p.str(join(path, head), m[head])
	case "column", "trait", "property":
		c.Kind = map[string]Kind{"column": KindColumn, "trait": KindTrait, "property": KindProperty}[head]
		known := map[string][]string{"column": columnKeys, "trait": traitKeys, "property": propertyKeys}[head]
		if _, ok := p.mapping(path, m, known); !ok {
			return nil
		}
		c.Name, _ = p.str(join(path, head), m[head])
		if w, ok := m["within"]; ok {
			c.Within = p.duration(join(path, "within"), w)
			if _, hasOp := m["op"]; hasOp {
				p.errorf(join(path, "within"), "and op: cannot be combined; within: 30d alone keeps values in the last 30 days")
			}
			return c
		}
		c.Op, c.Value = p.comparison(path, m, true)
	case "event":
		c.Kind = KindEvent
		if _, ok := p.mapping(path, m, eventKeys); !ok {
			return nil
		}
		c.Events = p.names(join(path, head), m[head])
		if w, ok := m["within"]; ok {
			c.Within = p.duration(join(path, "within"), w)
		}
		if w, ok := m["where"]; ok {
			c.Where = p.cond(join(path, "where"), w, true)
		}
		p.eventMeasure(c, m)
	}
	return c
}

// eventMeasure reads what an event condition measures: existence (nothing), count: {op, value},
// or sum/avg/min/max: property with op and value beside it.
func (p *parser) eventMeasure(c *Cond, m map[string]any) {
	path := c.Path
	var measures []string
	for _, k := range append([]string{"count"}, aggregates...) {
		if _, ok := m[k]; ok {
			measures = append(measures, k)
		}
	}
	_, hasOp := m["op"]
	_, hasValue := m["value"]
	switch {
	case len(measures) > 1:
		p.errorf(path, "has both %s and %s; an event condition measures one thing (split it into two conditions under all:)", measures[0], measures[1])
	case len(measures) == 0:
		if hasOp || hasValue {
			p.errorf(path, "compares nothing: op and value need count: or sum/avg/min/max: beside them, e.g. {event: \"Order Completed\", sum: revenue, op: \">=\", value: 200}")
		}
	case measures[0] == "count":
		c.Agg = "count"
		if hasOp || hasValue {
			p.errorf(path, "puts op and value beside count; write count: {op: \">=\", value: 2}")
			return
		}
		cm, ok := p.mapping(join(path, "count"), m["count"], leafKeys)
		if !ok {
			return
		}
		c.Op, c.Value = p.comparison(join(path, "count"), cm, false)
		if c.Op != "" && !isNumber(c.Value) && c.Value != nil {
			p.errorf(join(path, "count.value"), "must be a number, got %s", describe(c.Value))
		}
	default:
		c.Agg = measures[0]
		c.Of, _ = p.str(join(path, c.Agg), m[c.Agg])
		c.Op, c.Value = p.comparison(path, m, false)
		if c.Op != "" && c.Op != "is_null" && c.Op != "not_null" && !isNumber(c.Value) && !isNumberList(c.Value) {
			p.errorf(join(path, "value"), "must be a number to compare with the %s of %s, got %s", c.Agg, c.Of, describe(c.Value))
		}
	}
}

func (p *parser) duration(path string, v any) time.Duration {
	s, ok := v.(string)
	if !ok {
		p.errorf(path, "must be a duration such as 30d, 12h or 2w, got %s", describe(v))
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		p.errorf(path, "%v", err)
	}
	return d
}

// comparison reads op and value. nullOps allows is_null and not_null (which take no value).
func (p *parser) comparison(path string, m map[string]any, nullOps bool) (string, any) {
	rawOp, ok := m["op"]
	if !ok {
		p.errorf(path, "needs op: (one of %s)", strings.Join(Operators, " "))
		return "", nil
	}
	op, ok := rawOp.(string)
	if !ok || !slices.Contains(Operators, op) {
		msg := fmt.Sprintf("%s is not an operator; use one of %s", describe(rawOp), strings.Join(Operators, " "))
		if alt := opAliases[fmt.Sprint(rawOp)]; alt != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", alt)
		} else if s := config.Suggest(fmt.Sprint(rawOp), Operators); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		p.errorf(join(path, "op"), "%s", msg)
		return "", nil
	}
	value, hasValue := m["value"]
	switch op {
	case "is_null", "not_null":
		if !nullOps {
			p.errorf(join(path, "op"), "%s does not apply here: a count or a sum is never null", op)
			return "", nil
		}
		if hasValue {
			p.errorf(join(path, "value"), "is not used by %s; remove it", op)
		}
		return op, nil
	case "in", "not_in":
		list, ok := value.([]any)
		if !ok || len(list) == 0 {
			p.errorf(join(path, "value"), "%s needs a non-empty list: value: [a, b], got %s", op, describe(value))
			return "", nil
		}
		for i, e := range list {
			if !isScalar(e) {
				p.errorf(fmt.Sprintf("%s.value[%d]", path, i), "must be a string, number or boolean, got %s", describe(e))
				return "", nil
			}
			if i > 0 && scalarClass(e) != scalarClass(list[0]) {
				p.errorf(fmt.Sprintf("%s.value[%d]", path, i), "is a %s but value[0] is a %s; a list holds one kind of value", scalarClass(e), scalarClass(list[0]))
				return "", nil
			}
		}
		return op, value
	}
	if !hasValue || value == nil {
		hint := ""
		if op == "=" || op == "!=" {
			hint = fmt.Sprintf("; to test for a missing value use op: %s", map[string]string{"=": "is_null", "!=": "not_null"}[op])
		}
		p.errorf(join(path, "value"), "%s needs a value%s", op, hint)
		return "", nil
	}
	if !isScalar(value) {
		p.errorf(join(path, "value"), "must be a string, number or boolean for %s, got %s", op, describe(value))
		return "", nil
	}
	if op == "contains" {
		if _, ok := value.(string); !ok {
			p.errorf(join(path, "value"), "contains needs a string, got %s", describe(value))
			return "", nil
		}
	}
	return op, value
}

var opAliases = map[string]string{
	"==": "=", "eq": "=", "<>": "!=", "ne": "!=", "neq": "!=", "gt": ">", "gte": ">=", "=>": ">=",
	"lt": "<", "lte": "<=", "=<": "<=", "not in": "not_in", "nin": "not_in", "null": "is_null",
	"is null": "is_null", "is not null": "not_null", "exists": "not_null", "like": "contains",
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func isNumberList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) > 0 && isNumber(l[0])
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	return isNumber(v)
}

// scalarClass names the kind of a literal: string, number or boolean.
func scalarClass(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if isNumber(v) {
		return "number"
	}
	return describe(v)
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Walk calls f for every condition of the tree under c, parents first.
func Walk(c *Cond, f func(*Cond)) {
	if c == nil {
		return
	}
	f(c)
	for _, ch := range c.Children {
		Walk(ch, f)
	}
	Walk(c.Where, f)
}

// References are the models a spec reads besides its population: the events model when an
// event condition needs it, and the audiences it refers to, sorted and without duplicates.
func (s *Spec) References() (events bool, audiences []string) {
	Walk(s.Where, func(c *Cond) {
		switch c.Kind {
		case KindEvent:
			events = true
		case KindAudience:
			if !slices.Contains(audiences, c.Name) {
				audiences = append(audiences, c.Name)
			}
		}
	})
	slices.Sort(audiences)
	return events, audiences
}

// ReadsClock names the first rule whose result moves with the time of the build ("within:
// 720h0m0s at where.any[0]"), or "" when none does: as_of fixes the time, and rules without
// `within` do not count back from it.
func (s *Spec) ReadsClock() string {
	if !s.AsOf.IsZero() {
		return ""
	}
	var why string
	Walk(s.Where, func(c *Cond) {
		if why == "" && c.Within > 0 {
			why = "within: " + FormatDuration(c.Within) + " at " + c.Path
		}
	})
	return why
}

// errs is a helper to build an error list from a single problem.
func single(path, format string, args ...any) error {
	return Errors{{Path: path, Msg: fmt.Sprintf(format, args...)}}
}
