package load

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// jsonFields gives each dotted path an index into one multi-path extraction, so each line is
// parsed once however many fields the contract and the raw table need.
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
func (j *jsonFields) value(path string) string {
	return j.d.Element("v", j.index(path))
}

func (j *jsonFields) expr(path string) fieldExpr {
	v := j.value(path)
	jt := j.d.JSONType(v, "")
	text := j.d.JSONString(v, "")
	return fieldExpr{
		name:    path,
		present: "(" + v + " IS NOT NULL AND " + jt + " <> 'null')",
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
// checks must be built (they register their paths) before this is called.
func (j *jsonFields) classified(staged string, checks []check, cols []column) string {
	d := j.d
	parse := check{
		cond:   "v IS NULL",
		code:   ReasonMalformedJSON,
		detail: d.QuoteString("line is not a valid JSON object"),
	}
	utf := check{cond: "text IS NULL", code: ReasonInvalidUTF8, detail: d.QuoteString("line is not valid UTF-8")}
	all := append([]check{utf, parse}, checks...)
	failed, code, detail := classify(all)
	var sel []string
	for _, c := range cols {
		sel = append(sel, "CASE WHEN failed = 0 THEN "+c.expr+" END AS "+d.QuoteIdent(c.name))
	}
	return fmt.Sprintf(`WITH parsed AS (
	SELECT line, text, raw,
		CASE WHEN ltrim(text) LIKE '{%%' THEN %s END AS v
	FROM %s
	WHERE text IS NULL OR trim(text) <> ''
), checked AS (
	SELECT *, %s AS failed FROM parsed
)
SELECT line, text AS original_text, raw AS original_bytes, failed,
	%s AS reason,
	%s AS detail,
	%s
FROM checked`, d.JSONExtractMany("text", j.paths), staged, failed, code, detail, strings.Join(sel, ",\n\t"))
}

// contractChecks renders the checks of a contract's fields and tracking plan over JSON rows.
func (j *jsonFields) contractChecks(c *config.Contract, eventPath, typePath string) []check {
	d := j.d
	var out []check
	for _, f := range c.Fields {
		reqCode := ReasonMissingField
		e := j.expr(f.Name)
		checks := fieldChecks(d, f, e, "", "field ", reqCode)
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
		return out
	}
	ev := j.expr(eventPath)
	isTrack := j.expr(typePath).text + " = 'track'"
	var planned []string
	for _, rule := range c.Events {
		planned = append(planned, d.QuoteString(rule.Name))
		guard := isTrack + " AND " + ev.text + " = " + d.QuoteString(rule.Name)
		prefix := fmt.Sprintf("event %q: property ", rule.Name)
		for _, p := range rule.Properties {
			out = append(out, fieldChecks(d, p, j.expr("properties."+p.Name), guard, prefix, ReasonTrackingPlan)...)
		}
	}
	if !c.AllowUnplannedEvents {
		out = append(out, check{
			cond:   isTrack + " AND " + ev.text + " NOT IN (" + strings.Join(planned, ", ") + ")",
			code:   ReasonUnplannedEvent,
			detail: d.QuoteString("event ") + " || " + quoted(ev.text) + " || " + d.QuoteString(" is not in the tracking plan; add it to the contract or set allow_unplanned_events: true"),
		})
	}
	return out
}
