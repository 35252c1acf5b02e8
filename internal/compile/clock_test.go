package compile

import "testing"

func TestReadsClock(t *testing.T) {
	for _, tc := range []struct{ sql, want string }{
		{"select * from orders", ""},
		{"select * from orders where ts >= current_timestamp - interval 30 day", "current_timestamp"},
		{"select CURRENT_DATE as d", "current_date"},
		{"select now() as t", "now()"},
		{"select NOW ( ) as t", "now()"},
		{"select today() - 7", "today()"},
		{"select get_current_timestamp()", "get_current_timestamp()"},
		{"select current_datetime() from t", "current_datetime"},
		{"select localtimestamp", "localtimestamp"},
		// Not the clock: columns, qualified names, literals, quoted identifiers, comments.
		{"select today, now from calendar", ""},
		{"select o.current_date from orders o", ""},
		{"select 'current_timestamp' as s, 'it''s now()' as t", ""},
		{`select "current_date" from t`, ""},
		{"select `now`() from t", ""},
		{"-- filtered to current_date upstream\nselect 1", ""},
		{"/* current_timestamp */ select 1", ""},
		{"select 1.5e3, x.y from t where a = 'b' -- now()", ""},
		{"select 'unterminated", ""},
		// After a literal with an escaped quote, the clock is still found.
		{"select 'a''b', current_date", "current_date"},
		{"select x from t where d > current_date - 1.5", "current_date"},
	} {
		if got := ReadsClock(tc.sql); got != tc.want {
			t.Errorf("ReadsClock(%q) = %q, want %q", tc.sql, got, tc.want)
		}
	}
}
