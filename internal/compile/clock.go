package compile

import "strings"

// clockKeywords are SQL's clock values, written without parentheses (CURRENT_DATE) or with
// them (DuckDB and BigQuery accept both for some).
var clockKeywords = map[string]bool{
	"current_date":      true,
	"current_time":      true,
	"current_timestamp": true,
	"current_datetime":  true, // BigQuery
	"localtime":         true,
	"localtimestamp":    true,
}

// clockFunctions read the clock only when called, so they count only before "(": a column
// named "today" is not the clock.
var clockFunctions = map[string]bool{
	"now":                   true,
	"today":                 true,
	"get_current_time":      true,
	"get_current_timestamp": true,
	"transaction_timestamp": true,
}

// ReadsClock returns the first clock value or function sql uses (lower-cased, "now()" for a
// function), or "" if none. String literals, quoted identifiers and comments are not SQL and
// are skipped, and so are qualified names (t.current_date is a column).
//
// A model that reads the clock has output that depends on when it is built: "the last 30
// days" moves even when no input does, so the runner must not skip it for unchanged inputs.
func ReadsClock(sql string) string {
	prevDot := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(sql, i, c)
			prevDot = false
			continue
		case strings.HasPrefix(sql[i:], "--") || strings.HasPrefix(sql[i:], "/*"):
			i += skipSpaceAndComments(sql[i:])
			continue
		case isIdentStart(c):
			j := i + 1
			for j < len(sql) && isIdentPart(sql[j]) {
				j++
			}
			word := strings.ToLower(sql[i:j])
			if !prevDot {
				if clockKeywords[word] {
					return word
				}
				if clockFunctions[word] && nextNonSpace(sql, j) == '(' {
					return word + "()"
				}
			}
			prevDot = false
			i = j
			continue
		case c >= '0' && c <= '9':
			// A number (1.5e3) is one token: its dot does not qualify the next word.
			j := i + 1
			for j < len(sql) && (isIdentPart(sql[j]) || sql[j] == '.') {
				j++
			}
			i = j
			prevDot = false
			continue
		case c == '.':
			prevDot = true
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			prevDot = false
		}
		i++
	}
	return ""
}

// skipQuoted returns the offset after the quoted text starting at sql[i], where a doubled
// quote is an escaped one.
func skipQuoted(sql string, i int, q byte) int {
	for j := i + 1; j < len(sql); j++ {
		if sql[j] == q {
			if j+1 < len(sql) && sql[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
		if sql[j] == '\\' && q == '`' {
			j++
		}
	}
	return len(sql)
}

func nextNonSpace(s string, i int) byte {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			return s[i]
		}
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$' }
