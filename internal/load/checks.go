package load

import (
	"fmt"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Reason codes, stable for users who query the quarantine table.
const (
	ReasonInvalidUTF8     = "invalid_utf8"
	ReasonMalformedJSON   = "malformed_json"
	ReasonMalformedCSV    = "malformed_csv"
	ReasonMissingField    = "missing_required_field"
	ReasonWrongType       = "wrong_type"
	ReasonBadTimestamp    = "unparsable_timestamp"
	ReasonNotAllowed      = "value_not_allowed"
	ReasonUnknownType     = "unknown_type"
	ReasonMissingIdentity = "missing_identity"
	ReasonTrackingPlan    = "tracking_plan_violation"
	ReasonUnplannedEvent  = "unplanned_event"
)

// check is one rule: rows where cond holds are quarantined with code and the detail expression.
// Checks are evaluated in order and the first failing one is reported.
type check struct {
	cond   string // SQL boolean, true when the row breaks the rule
	code   string
	detail string // SQL string expression explaining the failure
	// event, when set, makes this a tracking-plan check that applies only to track calls of this
	// event; classify evaluates those per event, so each row pays only for its own event's rules.
	event string
}

// planScope says how to find the event a tracking-plan check applies to.
type planScope struct {
	guard string // SQL boolean: the row is a track call
	event string // SQL text of the event name
}

// fieldExpr is how a contract field is read from a staged row.
type fieldExpr struct {
	name    string // as the contract names it
	present string // SQL boolean: present and not null
	text    string // SQL text of the value (strings unquoted)
	// typeOK renders a SQL boolean saying the present value has the contract type.
	typeOK func(typ string) string
	// gotType is a SQL string naming the value's actual type, for messages.
	gotType string
}

func lit(d warehouse.Dialect, s string) string { return d.QuoteString(s) }

// fieldChecks renders the contract rules for one field: required, type, allowed values.
// prefix goes in front of messages (e.g. `event "Order Completed": property `).
func fieldChecks(d warehouse.Dialect, f config.Field, e fieldExpr, guard, prefix, requiredCode string) []check {
	and := func(c string) string {
		if guard == "" {
			return c
		}
		return "(" + guard + ") AND " + c
	}
	var out []check
	if f.Required {
		missing := "NOT (" + e.present + ")"
		if f.Type == "string" || f.Type == "" || f.Type == "any" {
			missing = "(NOT (" + e.present + ") OR trim(" + e.text + ") = '')"
		}
		out = append(out, check{
			cond:   and(missing),
			code:   requiredCode,
			detail: lit(d, prefix+f.Name+" is required but missing or empty"),
		})
	}
	if f.Type != "" && f.Type != "any" {
		code := ReasonWrongType
		detail := lit(d, prefix+f.Name+" must be "+article(f.Type)+", got ") + " || " + e.gotType
		if f.Type == "timestamp" {
			code = ReasonBadTimestamp
			detail = lit(d, prefix+f.Name+": cannot parse ") + " || " + quoted(e.text) + " || " + lit(d, " as a timestamp (use ISO-8601, e.g. 2026-10-03T14:22:05.123Z)")
		}
		if requiredCode == ReasonTrackingPlan {
			code = ReasonTrackingPlan
		}
		out = append(out, check{cond: and("(" + e.present + ") AND NOT (" + e.typeOK(f.Type) + ")"), code: code, detail: detail})
	}
	if len(f.Allowed) > 0 {
		vals := make([]string, len(f.Allowed))
		for i, v := range f.Allowed {
			vals[i] = lit(d, v)
		}
		code := ReasonNotAllowed
		if requiredCode == ReasonTrackingPlan {
			code = ReasonTrackingPlan
		}
		out = append(out, check{
			cond:   and("(" + e.present + ") AND " + e.text + " NOT IN (" + strings.Join(vals, ", ") + ")"),
			code:   code,
			detail: lit(d, prefix+f.Name+" = ") + " || " + quoted(e.text) + " || " + lit(d, " is not one of "+strings.Join(f.Allowed, ", ")),
		})
	}
	return out
}

func quoted(textExpr string) string {
	return "'\"' || coalesce(" + textExpr + ", '') || '\"'"
}

func article(typ string) string {
	switch typ {
	case "integer", "object", "array":
		return "an " + typ
	}
	return "a " + typ
}

// classify renders the CASE expressions that name the first failing check (0 = row is good)
// and its code and detail. Tracking-plan checks go last, nested by event name.
func classify(d warehouse.Dialect, checks []check, plan planScope) (failed, code, detail string) {
	if len(checks) == 0 {
		return "0", "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
	}
	var f, c, dt strings.Builder
	f.WriteString("CASE")
	c.WriteString("CASE failed")
	dt.WriteString("CASE failed")
	var events []string
	byEvent := map[string][]int{}
	for i, ch := range checks {
		fmt.Fprintf(&c, " WHEN %d THEN '%s'", i+1, ch.code)
		fmt.Fprintf(&dt, "\n\t\tWHEN %d THEN %s", i+1, ch.detail)
		if ch.event != "" {
			if _, ok := byEvent[ch.event]; !ok {
				events = append(events, ch.event)
			}
			byEvent[ch.event] = append(byEvent[ch.event], i)
			continue
		}
		fmt.Fprintf(&f, "\n\t\tWHEN %s THEN %d", ch.cond, i+1)
	}
	if len(events) > 0 {
		names := make([]string, len(events))
		for i, e := range events {
			names[i] = d.QuoteString(e)
		}
		fmt.Fprintf(&f, "\n\t\tWHEN %s AND %s IN (%s) THEN CASE %s", plan.guard, plan.event, strings.Join(names, ", "), plan.event)
		for _, e := range events {
			fmt.Fprintf(&f, "\n\t\t\tWHEN %s THEN CASE", d.QuoteString(e))
			for _, i := range byEvent[e] {
				fmt.Fprintf(&f, "\n\t\t\t\tWHEN %s THEN %d", checks[i].cond, i+1)
			}
			f.WriteString(" ELSE 0 END")
		}
		f.WriteString(" ELSE 0 END")
	}
	f.WriteString("\n\t\tELSE 0 END")
	c.WriteString(" END")
	dt.WriteString(" END")
	// Good rows skip the code and detail: a CASE over every check compares failed once per check,
	// which for the rows that pass them all cost more than the checks themselves.
	return f.String(), "CASE WHEN failed > 0 THEN " + c.String() + " END", "CASE WHEN failed > 0 THEN " + dt.String() + " END"
}
