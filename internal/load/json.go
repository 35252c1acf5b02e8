package load

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// jsonFields collects the dotted paths a source reads and renders one pass over each line that
// gets, in three multi-path calls that each parse the line once: the JSON type of the paths whose
// type is checked (t<i>), the text of the paths whose text is used (s<i>), and the JSON value of
// the few paths whose value is stored (v<i>). Types come without extracting values, so objects such as context are
// checked without being re-serialized; checks and output columns then reference these columns,
// computed once per row (evaluating them inline in every check was 5x slower).
//
// A path can be scoped to a condition over the unscoped fields: it is then read, in a pass of its
// own, only from the lines where the condition holds. The properties a tracking plan checks are
// read like that, from the planned events alone: in a profile, looking them up in every line cost
// more than parsing the planned lines a second time, and this way a large plan costs only its
// own events' lines.
type jsonFields struct {
	d      warehouse.Dialect
	paths  []string     // every path read, in order; i in t<i>/s<i>/v<i> indexes this
	scopes []string     // per path: "" (every line) or the SQL condition of the lines it is read from
	types  map[int]bool // paths whose JSON type is needed
	texts  map[int]bool // paths whose text is needed
	values map[int]bool // paths whose JSON value is needed
}

func newJSONFields(d warehouse.Dialect) *jsonFields {
	return &jsonFields{d: d, types: map[int]bool{}, texts: map[int]bool{}, values: map[int]bool{}}
}

func (j *jsonFields) index(path string) int { return j.scopedIndex(path, "") }

// scopedIndex registers path as read where scope holds; a path also read unscoped is read from
// every line.
func (j *jsonFields) scopedIndex(path, scope string) int {
	if i := slices.Index(j.paths, path); i >= 0 {
		if j.scopes[i] != scope {
			j.scopes[i] = ""
		}
		return i
	}
	j.paths = append(j.paths, path)
	j.scopes = append(j.scopes, scope)
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
func (j *jsonFields) expr(path, typ string) fieldExpr { return j.scopedExpr(path, typ, "") }

// scopedExpr reads a contract field of type typ from the lines where scope holds (NULL elsewhere).
func (j *jsonFields) scopedExpr(path, typ, scope string) fieldExpr {
	i := j.scopedIndex(path, scope)
	j.types[i] = true
	jt := fmt.Sprintf("t%d", i)
	text := "CAST(NULL AS VARCHAR)"
	if typ != "object" && typ != "array" {
		j.texts[i] = true
		text = fmt.Sprintf("s%d", i)
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
	var scopes []string // "" first, then each scope in the order it was registered
	scopes = append(scopes, "")
	for _, sc := range j.scopes {
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	// Each scope is one pass: a CTE computing its multi-path lists, then one picking their
	// elements, keeping the columns of the passes before it.
	var ctes []string
	kept := []string{"line", "text", "raw", "ok"}
	from := "valid"
	for g, sc := range scopes {
		var typePaths, textPaths, valuePaths []string
		var elems []string
		jt, js, jv := fmt.Sprintf("jt%d", g), fmt.Sprintf("js%d", g), fmt.Sprintf("jv%d", g)
		for i, p := range j.paths {
			if j.scopes[i] != sc {
				continue
			}
			// Each path looked up costs about a tenth of a parse, so only the types used are read.
			if j.types[i] {
				elems = append(elems, fmt.Sprintf("%s AS t%d", d.Element(jt, len(typePaths)), i))
				typePaths = append(typePaths, p)
			}
			if j.texts[i] {
				elems = append(elems, fmt.Sprintf("%s AS s%d", d.Element(js, len(textPaths)), i))
				textPaths = append(textPaths, p)
			}
			if j.values[i] {
				elems = append(elems, fmt.Sprintf("%s AS v%d", d.Element(jv, len(valuePaths)), i))
				valuePaths = append(valuePaths, p)
			}
		}
		if len(elems) == 0 {
			continue
		}
		when := "ok"
		if sc != "" {
			when = "ok AND (" + sc + ")"
		}
		var lists []string
		if len(typePaths) > 0 {
			lists = append(lists, "CASE WHEN "+when+" THEN "+d.JSONTypeMany("text", typePaths)+" END AS "+jt)
		}
		if len(textPaths) > 0 {
			lists = append(lists, "CASE WHEN "+when+" THEN "+d.JSONStringMany("text", textPaths)+" END AS "+js)
		}
		if len(valuePaths) > 0 {
			lists = append(lists, "CASE WHEN "+when+" THEN "+d.JSONExtractMany("text", valuePaths)+" END AS "+jv)
		}
		ctes = append(ctes,
			fmt.Sprintf("parsed%d AS (\n\tSELECT *,\n\t\t%s\n\tFROM %s\n)", g, strings.Join(lists, ",\n\t\t"), from),
			fmt.Sprintf("fields%d AS (\n\tSELECT %s,\n\t\t%s\n\tFROM parsed%d\n)", g, strings.Join(kept, ", "), strings.Join(elems, ",\n\t\t"), g))
		for _, e := range elems {
			kept = append(kept, e[strings.LastIndex(e, " ")+1:])
		}
		from = fmt.Sprintf("fields%d", g)
	}
	return fmt.Sprintf(`WITH valid AS (
	SELECT line, text, raw,
		coalesce((starts_with(text, '{') OR starts_with(ltrim(text), '{')) AND json_valid(text), FALSE) AS ok
	FROM %s
	WHERE text IS NULL OR text <> ''
), %s, checked AS (
	SELECT *, %s AS failed FROM %s
)
SELECT line, text AS original_text, raw AS original_bytes, failed,
	%s AS reason,
	%s AS detail,
	%s
FROM checked`, staged, strings.Join(ctes, ", "), failed, from, code, detail, strings.Join(sel, ",\n\t"))
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
	// Plan properties are read in one pass over the planned events' lines. Reading them instead
	// from each line's properties value parsed that value again in every check of every
	// property, which cost more than the rest of the classification together.
	inPlan := isTrack + " AND " + ev + " IN (" + strings.Join(planned, ", ") + ")"
	var plan []check
	for _, rule := range c.Events {
		prefix := fmt.Sprintf("event %q: property ", rule.Name)
		for _, p := range rule.Properties {
			for _, ch := range fieldChecks(d, p, j.scopedExpr("properties."+p.Name, p.Type, inPlan), "", prefix, ReasonTrackingPlan) {
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
