package compile

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/parser"

	"github.com/cdp-dev/cdp/internal/config"
)

// errorList collects problems from parallel workers. Compile returns them all at once, sorted
// by file and line, as config.Errors so the CLI reports them like every other project error.
type errorList struct {
	mu   sync.Mutex
	errs config.Errors
}

func (l *errorList) add(pos config.Pos, format string, args ...any) {
	l.addErr(&config.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (l *errorList) addErr(e *config.Error) {
	l.mu.Lock()
	l.errs = append(l.errs, e)
	l.mu.Unlock()
}

// err returns nil (never a typed nil) or the sorted, deduplicated list.
func (l *errorList) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return nil
	}
	es := l.errs
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Pos.File != b.Pos.File {
			return a.Pos.File < b.Pos.File
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		return a.Msg < b.Msg
	})
	out := es[:0]
	for i, e := range es {
		if i > 0 && e.Pos == es[i-1].Pos && e.Msg == es[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// suggest returns the candidate closest to word, or "" when none is close enough to be a typo
// of it.
func suggest(word string, candidates []string) string {
	if word == "" {
		return ""
	}
	w := strings.ToLower(word)
	best, bestDist := "", 0
	for _, c := range candidates {
		if c == word {
			continue
		}
		limit := max(1, len(c)/3)
		if abs(len(w)-len(c)) > limit {
			continue
		}
		d := config.EditDistance(w, strings.ToLower(c))
		if d > limit {
			continue
		}
		if best == "" || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

var (
	syntaxPosRe  = regexp.MustCompile(`\s*\(Line: (\d+) Col: (\d+), near "((?s).*)"\)$`)
	renderLineRe = regexp.MustCompile(`(?:Unable to render expression|Unable to execute controlStructure|Unable to render condition|Unable to evaluation condition as boolean) at line (\d+): `)
	undefinedRe  = regexp.MustCompile(`Unable to evaluate name "([^"]*)"`)
	attributeRe  = regexp.MustCompile(`Unable to evaluate ([^:]*): (attribute|item) '?([^' ]*)'? not found`)
	relAttrRe    = regexp.MustCompile(`: ([^:]*: a relation has no attribute .*)$`)
	invalidRe    = regexp.MustCompile(`invalid call to function '([^']*)': (.*)$`)
	notCallRe    = regexp.MustCompile(`(?:^|: )([A-Za-z_][A-Za-z0-9_]*) is not callable`)
)

// parseError turns a gonja parse error of the template in file into a positioned error.
func parseError(file, source string, err error) *config.Error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "failed to parse template '"+source+"': ")
	line := 0
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		line = se.Line
	}
	near := ""
	if m := syntaxPosRe.FindStringSubmatch(msg); m != nil {
		if line == 0 {
			line, _ = strconv.Atoi(m[1])
		}
		near = m[3]
		msg = msg[:len(msg)-len(m[0])]
	}
	if line == 0 {
		// gonja's lexer reports its errors without a line; the first unclosed tag is where
		// the user has to look.
		line = unclosedTagLine(source)
	}
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	if near != "" {
		msg += fmt.Sprintf(" near %q", near)
	}
	return &config.Error{
		Pos: config.Pos{File: file, Line: line},
		Msg: "template syntax error: " + msg + "; check that every {{ }}, {% %} and {# #} is closed and every {% if/for/macro %} has its {% end... %}",
	}
}

// unclosedTagLine is the line of the first {{, {% or {# whose closing delimiter does not come
// before the next opening one; 0 if every tag is closed.
func unclosedTagLine(source string) int {
	closers := map[string]string{"{{": "}}", "{%": "%}", "{#": "#}"}
	for i := 0; i+1 < len(source); i++ {
		open := source[i : i+2]
		end, ok := closers[open]
		if !ok {
			continue
		}
		rest := source[i+2:]
		closeAt := strings.Index(rest, end)
		nextOpen := len(rest)
		for o := range closers {
			if j := strings.Index(rest, o); j >= 0 && j < nextOpen {
				nextOpen = j
			}
		}
		if closeAt < 0 || (open != "{#" && closeAt > nextOpen) {
			return strings.Count(source[:i], "\n") + 1
		}
		i += 2 + closeAt + 1
	}
	return 0
}

// renderError turns an error from gonja's renderer into a positioned message. The line is the
// innermost "at line N" in gonja's chain of wrapped messages: the tag that failed.
func renderError(file string, err error, known func() []string) *config.Error {
	msg := err.Error()
	return &config.Error{Pos: config.Pos{File: file, Line: innerLine(msg)}, Msg: cleanRenderMessage(msg, known)}
}

func innerLine(msg string) int {
	ms := renderLineRe.FindAllStringSubmatch(msg, -1)
	if len(ms) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(ms[len(ms)-1][1])
	return n
}

// unavailable explains dbt names cdp leaves out on purpose.
var unavailable = map[string]string{
	"run_started_at": "run_started_at is not available in cdp: a model must render the same SQL on every compile so its fingerprint is stable; use current_timestamp in the SQL instead",
	"invocation_id":  "invocation_id is not available in cdp: a model must render the same SQL on every compile so its fingerprint is stable",
	"adapter":        "adapter is not available in cdp: use the portable macros or plain SQL",
	"run_query":      "run_query is not available in cdp: templates are rendered without a warehouse connection",
	"statement":      "statement blocks are not available in cdp: templates are rendered without a warehouse connection",
	"graph":          "graph is not available in cdp templates",
	"modules":        "modules is not available in cdp templates",
}

func cleanRenderMessage(msg string, known func() []string) string {
	name := ""
	if m := undefinedRe.FindStringSubmatch(msg); m != nil {
		name = m[1]
	} else if m := notCallRe.FindStringSubmatch(msg); m != nil && known != nil && !slices.Contains(known(), m[1]) {
		name = m[1] // calling an undefined name
	}
	if name != "" {
		if why, ok := unavailable[name]; ok {
			return why
		}
		s := fmt.Sprintf("%q is undefined", name)
		if known != nil {
			if sug := suggest(name, known()); sug != "" {
				return s + "; did you mean " + sug + "?"
			}
		}
		return s + "; define it with {% set " + name + " = ... %}, read a project variable with var('" + name + "'), or put a macro named " + name + " under macros/"
	}
	if m := relAttrRe.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if m := attributeRe.FindStringSubmatch(msg); m != nil {
		if strings.Contains(m[1], "call(") {
			return fmt.Sprintf("%s %q not found", m[2], m[3])
		}
		return fmt.Sprintf("%s: %s %q not found", m[1], m[2], m[3])
	}
	if m := invalidRe.FindStringSubmatch(msg); m != nil {
		return m[1] + "(): " + m[2]
	}
	// Keep what follows the innermost tag: "<expression>: <message>".
	if locs := renderLineRe.FindAllStringIndex(msg, -1); len(locs) > 0 {
		rest := msg[locs[len(locs)-1][1]:]
		if i := strings.Index(rest, ": "); i >= 0 {
			rest = rest[i+2:]
		}
		msg = rest
	}
	msg = strings.TrimPrefix(msg, "unable to execute template: ")
	return msg
}
