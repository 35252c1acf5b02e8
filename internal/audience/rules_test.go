package audience

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	s, err := Parse(rulesOf(t, `
include: [email]
events: my_events
as_of: 2026-11-01
where:
  all:
    - {event: [A, B], within: 2w, where: {property: x, op: is_null}}
    - not: {audience: churned}
    - {event: C, avg: price, op: in, value: [1, 2]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !s.AsOf.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || s.Events != "my_events" || !cmp.Equal(s.Include, []string{"email"}) {
		t.Errorf("spec = %+v", s)
	}
	ev := s.Where.Children[0]
	if ev.Kind != KindEvent || ev.Within != 14*24*time.Hour || !cmp.Equal(ev.Events, []string{"A", "B"}) || ev.Where.Kind != KindProperty || ev.Where.Op != "is_null" {
		t.Errorf("event = %+v", ev)
	}
	if agg := s.Where.Children[2]; agg.Agg != "avg" || agg.Of != "price" || agg.Op != "in" {
		t.Errorf("aggregate = %+v", agg)
	}
	events, audiences := s.References()
	if !events || !cmp.Equal(audiences, []string{"churned"}) {
		t.Errorf("References = %v, %v", events, audiences)
	}
	if s, err := Parse(rulesOf(t, `{}`)); err != nil || s.Events != "profile_events" || s.Include != nil || s.Where != nil {
		t.Errorf("empty rules: %+v, %v", s, err)
	}
}

// TestParseErrors checks that every problem is reported, with where it is and the fix.
func TestParseErrors(t *testing.T) {
	tests := []struct{ rules, want string }{
		{`[a]`, `audience: must be a mapping (the audience rules), got a list`},
		{`{includes: [a], wher: {}}`, "audience.includes: unknown key; did you mean \"include\"?\naudience.wher: unknown key; did you mean \"where\"?"},
		{`{from: profiles}`, "audience.from: is not a key: the population is the model's SQL; write `select * from {{ ref('profiles') }}` in its .sql file and remove from"},
		{`{where: {colum: a, op: is_null}}`, `audience.where.colum: unknown key; did you mean "column"?`},
		{`{where: {op: is_null}}`, `audience.where: says nothing to test (keys: op); start it with one of all, any, not, column, trait, event, audience`},
		{`{where: {column: a, trait: b}}`, `audience.where: has both column and trait; put each in its own condition under all: or any:`},
		{`{where: {column: a, op: "=>", value: 1}}`, `audience.where.op: "=>" is not an operator; use one of = != > >= < <= in not_in is_null not_null contains (did you mean ">="?)`},
		{`{where: {column: a, op: in, value: 1}}`, `audience.where.value: in needs a non-empty list: value: [a, b], got 1`},
		{`{where: {column: a, op: in, value: [1, x]}}`, `audience.where.value[1]: is a string but value[0] is a number; a list holds one kind of value`},
		{`{where: {column: a, op: "="}}`, `audience.where.value: = needs a value; to test for a missing value use op: is_null`},
		{`{where: {column: a, op: is_null, value: 1}}`, `audience.where.value: is not used by is_null; remove it`},
		{`{where: {column: a, op: contains, value: 1}}`, `audience.where.value: contains needs a string, got 1`},
		{`{where: {column: a, within: 30}}`, `audience.where.within: must be a duration such as 30d, 12h or 2w, got 30`},
		{`{where: {column: a, within: 30y}}`, `audience.where.within: "30y" is not a duration; write a positive whole number and a unit (m, h, d, w): 30d, 12h, 90m, 2w`},
		{`{where: {all: []}}`, `audience.where.all: must be a non-empty list of conditions, got a list`},
		{`{where: {any: [{column: a, op: is_null}, 3]}}`, `audience.where.any[1]: must be a condition (a mapping such as {column: total_spend, op: ">=", value: 100}), got 3`},
		{`{where: {event: X, count: {op: ">=", value: two}}}`, `audience.where.count.value: must be a number, got "two"`},
		{`{where: {event: X, op: ">=", value: 2}}`, `audience.where: compares nothing: op and value need count: or sum/avg/min/max: beside them, e.g. {event: "Order Completed", sum: revenue, op: ">=", value: 200}`},
		{`{where: {event: X, count: {op: is_null}}}`, `audience.where.count.op: is_null does not apply here: a count or a sum is never null`},
		{`{where: {event: X, sum: revenue, count: {op: "=", value: 1}}}`, `audience.where: has both count and sum; an event condition measures one thing (split it into two conditions under all:)`},
		{`{where: {event: X, where: {column: a, op: is_null}}}`, `audience.where.where.column: is not allowed inside an event's where:, which tests the event's properties: use {property: name, op: ..., value: ...}`},
		{`{where: {property: a, op: is_null}}`, `audience.where.property: is only allowed inside an event's where:; to test a profile use column: or trait:`},
		{`{as_of: soon}`, `audience.as_of: must be a timestamp like 2026-11-01 or 2026-11-01T12:00:00Z, got "soon"`},
		{`{where: {trait: plan, op: "==", value: pro}, include: 3}`, "audience.include: must be a name or a list of names, got 3\naudience.where.op: \"==\" is not an operator; use one of = != > >= < <= in not_in is_null not_null contains (did you mean \"=\"?)"},
	}
	for _, tc := range tests {
		_, err := Parse(rulesOf(t, tc.rules))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.rules, err, tc.want)
		}
	}
}

func TestSplitPath(t *testing.T) {
	got := splitPath("where.all[2].any[0].op")
	if want := []string{"where", "all", "2", "any", "0", "op"}; !cmp.Equal(got, want) {
		t.Errorf("splitPath = %q, want %q", got, want)
	}
}

// Rules with `within` count back from the build, so the runner rebuilds them on every run;
// as_of fixes the time, and rules without `within` do not move with it.
func TestSpecReadsClock(t *testing.T) {
	for _, tc := range []struct{ rules, want string }{
		{`{where: {all: [{column: plan, op: "=", value: pro}, {any: [{event: Order Completed, within: 30d}]}]}}`, "within: 30d at where.all[1].any[0]"},
		{`{where: {column: last_seen_at, within: 36h}}`, "within: 36h at where"},
		{`{where: {event: Order Completed, within: 2w}, as_of: 2026-11-01}`, ""},
		{`{where: {event: Order Completed, count: {op: ">=", value: 2}}}`, ""},
		{`{}`, ""},
	} {
		s, err := Parse(rulesOf(t, tc.rules))
		if err != nil {
			t.Fatalf("%s: %v", tc.rules, err)
		}
		if got := s.ReadsClock(); got != tc.want {
			t.Errorf("%s: ReadsClock() = %q, want %q", tc.rules, got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{30 * 24 * time.Hour: "30d", 14 * 24 * time.Hour: "2w", 36 * time.Hour: "36h", 90 * time.Minute: "90m", 90 * time.Second: "1m30s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
