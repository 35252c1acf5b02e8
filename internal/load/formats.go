package load

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// segmentColumns are the typed columns of a Segment-spec raw table, before the payload and the
// meta columns: (column, JSON path, portable type).
var segmentColumns = []struct{ col, path, typ string }{
	{"message_id", "messageId", "string"},
	{"type", "type", "string"},
	{"event", "event", "string"},
	{"name", "name", "string"},
	{"anonymous_id", "anonymousId", "string"},
	{"user_id", "userId", "string"},
	{"previous_id", "previousId", "string"},
	{"group_id", "groupId", "string"},
	{"timestamp", "timestamp", "timestamp"},
	{"original_timestamp", "originalTimestamp", "timestamp"},
	{"sent_at", "sentAt", "timestamp"},
	{"received_at", "receivedAt", "timestamp"},
	{"context", "context", "json"},
	{"properties", "properties", "json"},
	{"traits", "traits", "json"},
}

// payloadColumn keeps each line byte for byte as it arrived. It is text rather than the engine's
// JSON type: the line was already validated, and a JSON cast would parse every line again (about
// a tenth of the load's time) and could re-serialize it differently from what was sent.
var payloadColumn = column{name: "payload", typ: "string", fromOriginal: true, document: true}

// segmentLayout loads Segment-spec events (https://segment.com/docs/connections/spec/common/).
func segmentLayout(d warehouse.Dialect, c *config.Contract) *layout {
	j := newJSONFields(d)
	var cols []column
	for _, sc := range segmentColumns {
		var expr string
		switch sc.typ {
		case "json":
			// Objects are checked (they must be objects) but read from the payload: storing them
			// too would write most of each event twice (see payloadColumn). Engines without
			// virtual columns store the extracted value.
			c := column{name: sc.col, typ: sc.typ, virtualPath: sc.path}
			j.index(sc.path)
			if !isVirtual(d, c) {
				c.expr = j.value(sc.path)
			}
			cols = append(cols, c)
			continue
		case "timestamp":
			expr = d.TryCast(j.text(sc.path), "timestamp")
		default:
			expr = "NULLIF(trim(" + j.text(sc.path) + "), '')"
		}
		cols = append(cols, column{name: sc.col, typ: sc.typ, expr: expr})
	}
	cols = append(cols, payloadColumn)

	checks, plan := j.contractChecks(c, "event", "type")
	typ := j.text("type")
	has := func(path string) string {
		e := j.expr(path, "string")
		return "(" + e.present + " AND trim(" + e.text + ") <> '')"
	}
	need := func(types, cond, code, msg string) check {
		return check{
			cond:   typ + " IN (" + types + ") AND NOT " + cond,
			code:   code,
			detail: typ + " || " + d.QuoteString(" call "+msg),
		}
	}
	checks = append(checks,
		need("'identify', 'track', 'page', 'screen', 'group'", "("+has("userId")+" OR "+has("anonymousId")+")",
			ReasonMissingIdentity, "needs userId or anonymousId"),
		need("'track'", has("event"), ReasonMissingField, "needs event (the action's name)"),
		need("'alias'", "("+has("previousId")+" AND "+has("userId")+")", ReasonMissingField, "needs previousId and userId"),
		need("'group'", has("groupId"), ReasonMissingField, "needs groupId"),
	)
	for _, obj := range []string{"context", "properties", "traits"} {
		e := j.expr(obj, "object")
		checks = append(checks, check{
			cond:   e.present + " AND NOT (" + e.typeOK("object") + ")",
			code:   ReasonWrongType,
			detail: d.QuoteString("field "+obj+" must be an object, got ") + " || " + e.gotType,
		})
	}
	l := &layout{stage: warehouse.FormatLines, columns: cols, dedupeKey: "message_id"}
	l.classified = func(staged string, _ []string) (string, error) {
		return j.classified(staged, checks, cols, plan), nil
	}
	return l
}

// ndjsonLayout loads any NDJSON: one typed column per contract field plus the payload.
func ndjsonLayout(d warehouse.Dialect, c *config.Contract) *layout {
	j := newJSONFields(d)
	var cols []column
	for _, f := range c.Fields {
		var expr string
		switch portable(f.Type) {
		case "json":
			expr = j.value(f.Name)
		case "string":
			expr = j.text(f.Name)
		default:
			expr = d.TryCast(j.text(f.Name), portable(f.Type))
		}
		cols = append(cols, column{name: columnName(f.Name), typ: portable(f.Type), expr: expr})
	}
	cols = append(cols, payloadColumn)
	checks, plan := j.contractChecks(c, "", "")
	l := &layout{stage: warehouse.FormatLines, columns: cols}
	l.classified = func(staged string, _ []string) (string, error) {
		return j.classified(staged, checks, cols, plan), nil
	}
	return l
}

// portable maps a contract type to the column type that holds it.
func portable(contractType string) string {
	switch contractType {
	case "", "any", "object", "array":
		return "json"
	}
	return contractType
}

// textField reads a field held as text (CSV cells, Parquet values cast to text).
func textField(d warehouse.Dialect, name, text, native string) fieldExpr {
	return fieldExpr{
		name:    name,
		present: "(" + text + " IS NOT NULL)",
		text:    text,
		gotType: quoted(text),
		typeOK: func(typ string) string {
			switch portable(typ) {
			case "string":
				return "TRUE"
			case "json":
				return "json_valid(" + text + ")"
			}
			if native != "" {
				return d.TryCast(native, portable(typ)) + " IS NOT NULL"
			}
			return d.TryCast(text, portable(typ)) + " IS NOT NULL"
		},
	}
}

// tableClassified renders classification for tabular stages (CSV, Parquet) where each contract
// field is a column found by name.
func tableClassified(d warehouse.Dialect, c *config.Contract, staged string, read func(f config.Field) (text, native string, ok bool), pre []check, original, fileColumns string) (string, []column, error) {
	var checks []check
	var cols []column
	var missing []string
	for _, f := range c.Fields {
		text, native, ok := read(f)
		if !ok {
			if f.Required {
				missing = append(missing, f.Name)
			}
			text, native = "CAST(NULL AS VARCHAR)", ""
		}
		e := textField(d, f.Name, text, native)
		checks = append(checks, fieldChecks(d, f, e, "", "column ", ReasonMissingField)...)
		val := d.TryCast(text, portable(f.Type))
		if native != "" {
			val = d.TryCast(native, portable(f.Type))
		}
		if portable(f.Type) == "string" {
			val = text
		}
		cols = append(cols, column{name: columnName(f.Name), typ: portable(f.Type), expr: val})
	}
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("required column(s) %s are not in the file (it has: %s); fix the file or the contract", strings.Join(missing, ", "), fileColumns)
	}
	failed, code, detail := classify(d, append(pre, checks...), planScope{})
	var sel []string
	for _, col := range cols {
		sel = append(sel, "CASE WHEN failed = 0 THEN "+col.expr+" END AS "+d.QuoteIdent(col.name))
	}
	return fmt.Sprintf(`WITH checked AS (
	SELECT *, %s AS failed FROM %s s
)
SELECT line, %s AS original_text, CAST(NULL AS BLOB) AS original_bytes, failed,
	%s AS reason,
	%s AS detail,
	%s
FROM checked s`, failed, staged, original, code, detail, strings.Join(sel, ",\n\t")), cols, nil
}

func csvLayout(d warehouse.Dialect, c *config.Contract) *layout {
	l := &layout{stage: warehouse.FormatCSV}
	l.columns = contractColumns(c)
	l.classified = func(staged string, header []string) (string, error) {
		read := func(f config.Field) (string, string, bool) {
			i := slices.Index(header, f.Name)
			if i < 0 {
				return "", "", false
			}
			return fmt.Sprintf("NULLIF(%s, '')", d.Element("fields", i)), "", true
		}
		pre := []check{
			{cond: "fields IS NULL", code: ReasonMalformedCSV, detail: "error"},
			{
				cond:   fmt.Sprintf("len(fields) <> %d", len(header)),
				code:   ReasonMalformedCSV,
				detail: fmt.Sprintf("'record has ' || len(fields) || ' fields, the header has %d'", len(header)),
			},
		}
		q, _, err := tableClassified(d, c, staged, read, pre, "text", strings.Join(header, ", "))
		return q, err
	}
	return l
}

func parquetLayout(d warehouse.Dialect, c *config.Contract) *layout {
	l := &layout{stage: warehouse.FormatParquet}
	l.columns = contractColumns(c)
	l.classified = func(staged string, fileColumns []string) (string, error) {
		read := func(f config.Field) (string, string, bool) {
			if !slices.Contains(fileColumns, f.Name) {
				return "", "", false
			}
			col := "s." + d.QuoteIdent(f.Name)
			return "CAST(" + col + " AS VARCHAR)", col, true
		}
		// The row as the file had it: only the file's own columns, not cdp's line and check columns.
		fields := make([]string, len(fileColumns))
		for i, fc := range fileColumns {
			fields[i] = d.QuoteString(fc) + ": s." + d.QuoteIdent(fc)
		}
		original := "CAST(to_json({" + strings.Join(fields, ", ") + "}) AS VARCHAR)"
		q, _, err := tableClassified(d, c, staged, read, nil, original, strings.Join(fileColumns, ", "))
		return q, err
	}
	return l
}

func contractColumns(c *config.Contract) []column {
	var cols []column
	for _, f := range c.Fields {
		cols = append(cols, column{name: columnName(f.Name), typ: portable(f.Type)})
	}
	return cols
}
