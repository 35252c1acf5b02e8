package load

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// jsonFields gives each dotted path an index into one multi-path extraction, so each line is
// parsed once however many fields the contract and the raw table need. Each path's value (v<i>),
// JSON type (t<i>) and text (s<i>) become columns computed once per row, which the checks and
// the output columns then reference: evaluating them inline in every check was 5x slower.
type jsonFields struct {
	d     warehouse.Dialect
	paths []string
}

func (j *jsonFields) index(path string) int {
	if i := slices.Index(j.paths, path); i >= 0 {
		return i
	}
	j.paths = append(j.paths, path)
	return len(j.paths) - 1
}

// value is the JSON value at path (NULL when absent) in the parsed row.
func (j *jsonFields) value(path string) string { return fmt.Sprintf("v%d", j.index(path)) }

// text is the value at path as text (strings unquoted; NULL when absent or null).
func (j *jsonFields) text(path string) string { return fmt.Sprintf("s%d", j.index(path)) }

func (j *jsonFields) expr(path string) fieldExpr {
	i := j.index(path)
	jt := fmt.Sprintf("t%d", i)
	text := fmt.Sprintf("s%d", i)
	return fieldExpr{
		name:    path,
		present: "(" + jt + " IS NOT NULL AND " + jt + " <> 'null')",
		text:    text,
		gotType: jt,
		typeOK: func(typ string) string {
			switch typ {
			case "number":
				return jt + " IN ('integer', 'number')"
			case "timestamp":
				return "(" + jt + " = 'string' AND " + j.d.TryCast(text, "timestamp") + " IS NOT NULL)"
			}
			return jt + " = '" + typ + "'"
		},
	}
}

// nestedExpr reads key inside the JSON object at parent (already extracted), parsing that small
// value on demand. Tracking-plan properties use it: their checks run only for rows of their
// event, so extracting them from every line up front would be wasted work.
func (j *jsonFields) nestedExpr(parent, key string) fieldExpr {
	v := j.value(parent)
	jt := j.d.JSONType(v, key)
	text := j.d.JSONString(v, key)
	return fieldExpr{
		name:    parent + "." + key,
		present: "(" + jt + " IS NOT NULL AND " + jt + " <> 'null')",
		text:    text,
		gotType: jt,
		typeOK: func(typ string) string {
			switch typ {
			case "number":
				return jt + " IN ('integer', 'number')"
			case "timestamp":
				return "(" + jt + " = 'string' AND " + j.d.TryCast(text, "timestamp") + " IS NOT NULL)"
			}
			return jt + " = '" + typ + "'"
		},
	}
}

// jsonClassified renders the classification SELECT shared by Segment and plain NDJSON sources.
// checks and cols must be built (they register their paths) before this is called.
func (j *jsonFields) classified(staged string, checks []check, cols []column, plan planScope) string {
	d := j.d
	parse := check{
		cond:   "v IS NULL",
		code:   ReasonMalformedJSON,
		detail: d.QuoteString("line is not a valid JSON object"),
	}
	utf := check{cond: "text IS NULL", code: ReasonInvalidUTF8, detail: d.QuoteString("line is not valid UTF-8")}
	all := append([]check{utf, parse}, checks...)
	failed, code, detail := classify(d, all, plan)
	var sel, elems, typed []string
	for _, c := range cols {
		if c.fromOriginal || isVirtual(d, c) {
			continue
		}
		sel = append(sel, "CASE WHEN failed = 0 THEN "+c.expr+" END AS "+d.QuoteIdent(c.name))
	}
	for i := range j.paths {
		elems = append(elems, fmt.Sprintf("%s AS v%d", d.Element("v", i), i))
		t := d.JSONValueType(fmt.Sprintf("v%d", i))
		typed = append(typed, fmt.Sprintf("%s AS t%d", t, i))
	}
	var texts []string
	for i := range j.paths {
		texts = append(texts, fmt.Sprintf("%s AS s%d", d.JSONValueText(fmt.Sprintf("v%d", i), fmt.Sprintf("t%d", i)), i))
	}
	return fmt.Sprintf(`WITH parsed AS (
	SELECT line, text, raw,
		CASE WHEN starts_with(text, '{') OR starts_with(ltrim(text), '{') THEN %s END AS v
	FROM %s
	WHERE text IS NULL OR text <> ''
), elems AS (
	SELECT line, text, raw, v,
		%s
	FROM parsed
), typed AS (
	SELECT *,
		%s
	FROM elems
), fields AS (
	SELECT *,
		%s
	FROM typed
), checked AS (
	SELECT *, %s AS failed FROM fields
)
SELECT line, text AS original_text, raw AS original_bytes, failed,
	%s AS reason,
	%s AS detail,
	%s
FROM checked`, d.JSONExtractMany("text", j.paths), staged,
		strings.Join(elems, ",\n\t\t"), strings.Join(typed, ",\n\t\t"), strings.Join(texts, ",\n\t\t"),
		failed, code, detail, strings.Join(sel, ",\n\t"))
}

// contractChecks renders the checks of a contract's fields and tracking plan over JSON rows.
func (j *jsonFields) contractChecks(c *config.Contract, eventPath, typePath string) ([]check, planScope) {
	d := j.d
	var out []check
	for _, f := range c.Fields {
		checks := fieldChecks(d, f, j.expr(f.Name), "", "field ", ReasonMissingField)
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
	var plan []check
	for _, rule := range c.Events {
		planned = append(planned, d.QuoteString(rule.Name))
		prefix := fmt.Sprintf("event %q: property ", rule.Name)
		for _, p := range rule.Properties {
			for _, ch := range fieldChecks(d, p, j.nestedExpr("properties", p.Name), "", prefix, ReasonTrackingPlan) {
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
