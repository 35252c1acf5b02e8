package load

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// jsonFields collects the dotted paths a source reads and renders one pass over each line that
// gets, in three multi-path calls that each parse the line once: every path's JSON type (t<i>),
// the text of the paths whose text is used (s<i>), and the JSON value of the few paths whose
// value is stored (v<i>). Types come without extracting values, so objects such as context are
// checked without being re-serialized; checks and output columns then reference these columns,
// computed once per row (evaluating them inline in every check was 5x slower).
type jsonFields struct {
	d      warehouse.Dialect
	paths  []string     // every path read, in order; i in t<i>/s<i>/v<i> indexes this
	texts  map[int]bool // paths whose text is needed
	values map[int]bool // paths whose JSON value is needed
	lazy   []lazyValue  // values parsed only for some rows
}

// lazyValue is a JSON value extracted only where cond holds: the properties of a tracking-plan
// event are needed for that event's rows, not for every line.
type lazyValue struct {
	name, cond, path string
}

func newJSONFields(d warehouse.Dialect) *jsonFields {
	return &jsonFields{d: d, texts: map[int]bool{}, values: map[int]bool{}}
}

func (j *jsonFields) index(path string) int {
	if i := slices.Index(j.paths, path); i >= 0 {
		return i
	}
	j.paths = append(j.paths, path)
	return len(j.paths) - 1
}

// value is the JSON value at path (NULL when absent).
func (j *jsonFields) value(path string) string {
	i := j.index(path)
	j.values[i] = true
	return fmt.Sprintf("v%d", i)
}

// text is the value at path as text (strings unquoted; NULL when absent or null).
func (j *jsonFields) text(path string) string {
	i := j.index(path)
	j.texts[i] = true
	return fmt.Sprintf("s%d", i)
}

// expr reads a contract field of type typ.
func (j *jsonFields) expr(path, typ string) fieldExpr {
	i := j.index(path)
	jt := fmt.Sprintf("t%d", i)
	text := "CAST(NULL AS VARCHAR)"
	if typ != "object" && typ != "array" {
		text = j.text(path)
	}
	return typedExpr(j.d, path, jt, text)
}

// typedExpr is a field whose JSON type (portable name) and text are the SQL expressions jt and text.
func typedExpr(d warehouse.Dialect, name, jt, text string) fieldExpr {
	return fieldExpr{
		name:    name,
		present: "(" + jt + " IS NOT NULL AND " + jt + " <> 'null')",
		text:    text,
		gotType: jt,
		typeOK: func(typ string) string {
			switch typ {
			case "number":
				return jt + " IN ('integer', 'number')"
			case "timestamp":
				return "(" + jt + " = 'string' AND " + d.TryCast(text, "timestamp") + " IS NOT NULL)"
			}
			return jt + " = '" + typ + "'"
		},
	}
}

// nestedExpr reads key inside the object at parent, from a value parsed only where cond holds.
func (j *jsonFields) nestedExpr(parent, key, cond string) fieldExpr {
	name := ""
	for _, l := range j.lazy {
		if l.path == parent && l.cond == cond {
			name = l.name
		}
	}
	if name == "" {
		name = fmt.Sprintf("lazy%d", len(j.lazy))
		j.lazy = append(j.lazy, lazyValue{name: name, cond: cond, path: parent})
	}
	return typedExpr(j.d, parent+"."+key, j.d.JSONType(name, key), j.d.JSONString(name, key))
}

// classified renders the classification SELECT shared by Segment and plain NDJSON sources.
// checks and cols must be built (they register their paths) before this is called.
func (j *jsonFields) classified(staged string, checks []check, cols []column, plan planScope) string {
	d := j.d
	parse := check{cond: "NOT ok", code: ReasonMalformedJSON, detail: d.QuoteString("line is not a valid JSON object")}
	utf := check{cond: "text IS NULL", code: ReasonInvalidUTF8, detail: d.QuoteString("line is not valid UTF-8")}
	failed, code, detail := classify(d, append([]check{utf, parse}, checks...), plan)
	var sel []string
	for _, c := range cols {
		if c.fromOriginal || isVirtual(d, c) {
			continue
		}
		sel = append(sel, "CASE WHEN failed = 0 THEN "+c.expr+" END AS "+d.QuoteIdent(c.name))
	}
	lists := []string{"CASE WHEN ok THEN " + d.JSONTypeMany("text", j.paths) + " END AS jt"}
	var elems []string
	var textPaths, valuePaths []string
	for i, p := range j.paths {
		elems = append(elems, fmt.Sprintf("%s AS t%d", d.Element("jt", i), i))
		if j.texts[i] {
			elems = append(elems, fmt.Sprintf("%s AS s%d", d.Element("js", len(textPaths)), i))
			textPaths = append(textPaths, p)
		}
		if j.values[i] {
			elems = append(elems, fmt.Sprintf("%s AS v%d", d.Element("jv", len(valuePaths)), i))
			valuePaths = append(valuePaths, p)
		}
	}
	if len(textPaths) > 0 {
		lists = append(lists, "CASE WHEN ok THEN "+d.JSONStringMany("text", textPaths)+" END AS js")
	}
	if len(valuePaths) > 0 {
		lists = append(lists, "CASE WHEN ok THEN "+d.JSONExtractMany("text", valuePaths)+" END AS jv")
	}
	lazy := []string{"TRUE AS cdp_no_lazy"}
	for _, l := range j.lazy {
		lazy = append(lazy, fmt.Sprintf("CASE WHEN %s THEN %s END AS %s", l.cond, d.JSONValue("text", l.path), l.name))
	}
	return fmt.Sprintf(`WITH valid AS (
	SELECT line, text, raw,
		coalesce((starts_with(text, '{') OR starts_with(ltrim(text), '{')) AND json_valid(text), FALSE) AS ok
	FROM %s
	WHERE text IS NULL OR text <> ''
), parsed AS (
	SELECT *,
		%s
	FROM valid
), fields AS (
	SELECT line, text, raw, ok,
		%s
	FROM parsed
), lazy AS (
	SELECT *,
		%s
	FROM fields
), checked AS (
	SELECT *, %s AS failed FROM lazy
)
SELECT line, text AS original_text, raw AS original_bytes, failed,
	%s AS reason,
	%s AS detail,
	%s
FROM checked`, staged, strings.Join(lists, ",\n\t\t"), strings.Join(elems, ",\n\t\t"), strings.Join(lazy, ",\n\t\t"),
		failed, code, detail, strings.Join(sel, ",\n\t"))
}

// contractChecks renders the checks of a contract's fields and tracking plan over JSON rows.
func (j *jsonFields) contractChecks(c *config.Contract, eventPath, typePath string) ([]check, planScope) {
	d := j.d
	var out []check
	for _, f := range c.Fields {
		checks := fieldChecks(d, f, j.expr(f.Name, f.Type), "", "field ", ReasonMissingField)
		if f.Name == typePath {
			for i := range checks {
				if checks[i].code == ReasonNotAllowed {
					checks[i].code = ReasonUnknownType
				}
			}
		}
		out = append(out, checks...)
	}
	if len(c.Events) == 0 || eventPath == "" {
		return out, planScope{}
	}
	ev := j.text(eventPath)
	isTrack := j.text(typePath) + " = 'track'"
	var planned []string
	for _, rule := range c.Events {
		planned = append(planned, d.QuoteString(rule.Name))
	}
	inPlan := isTrack + " AND " + ev + " IN (" + strings.Join(planned, ", ") + ")"
	var plan []check
	for _, rule := range c.Events {
		prefix := fmt.Sprintf("event %q: property ", rule.Name)
		for _, p := range rule.Properties {
			for _, ch := range fieldChecks(d, p, j.nestedExpr("properties", p.Name, inPlan), "", prefix, ReasonTrackingPlan) {
				ch.event = rule.Name
				plan = append(plan, ch)
			}
		}
	}
	if !c.AllowUnplannedEvents {
		out = append(out, check{
			cond:   isTrack + " AND " + ev + " NOT IN (" + strings.Join(planned, ", ") + ")",
			code:   ReasonUnplannedEvent,
			detail: d.QuoteString("event ") + " || " + quoted(ev) + " || " + d.QuoteString(" is not in the tracking plan; add it to the contract or set allow_unplanned_events: true"),
		})
	}
	return append(out, plan...), planScope{guard: isTrack, event: ev}
}
