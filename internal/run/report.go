package run

import (
	"fmt"
	"io"
	"strings"

	"github.com/cdp-dev/cdp/internal/progress"
)

// LineReporter writes one line per finished node, dbt style, to W:
//
//	1 of 12 OK created table main.orders ......................... [OK 1,204 rows in 0.12s]
type LineReporter struct {
	W io.Writer
}

var _ Reporter = LineReporter{}

func (LineReporter) NodeStarted(Result) {}

func (l LineReporter) NodeDone(r Result) { fmt.Fprintln(l.W, FormatResult(r)) }

// lineWidth is where the [STATUS] column of FormatResult's lines ends up (when they fit).
const lineWidth = 80

// FormatResult renders a finished node as one line.
func FormatResult(r Result) string {
	what := r.Materialized
	name := r.Relation
	if r.Kind == "test" || name == "" {
		name = r.ID
		if _, rest, ok := strings.Cut(r.ID, "."); ok && strings.HasPrefix(r.ID, r.Kind+".") {
			name = rest
		}
	}
	secs := fmt.Sprintf("in %.2fs", r.Seconds)
	var desc, tag string
	switch r.Status {
	case StatusSuccess:
		switch {
		case r.Kind == "seed":
			desc = "OK loaded seed " + name
		case what == "view":
			desc = "OK created view " + name
		case strings.HasPrefix(r.Message, "inserted"):
			desc = "OK inserted into incremental " + name
		default:
			desc = "OK created " + what + " " + name
		}
		tag = "OK " + secs
		if what != "view" {
			tag = "OK " + progress.Thousands(r.Rows) + " rows " + secs
		}
	case StatusSkippedUnchanged:
		desc, tag = "SKIP unchanged "+what+" "+name, "SKIP"
	case StatusError:
		desc, tag = "ERROR "+errorVerb(r)+" "+name, "ERROR "+secs
	case StatusSkippedUpstreamFailed:
		desc, tag = "SKIP "+r.Kind+" "+name+" (upstream failed)", "SKIP"
	case StatusPass:
		desc, tag = "PASS "+name, "PASS "+secs
	case StatusWarn:
		desc, tag = "WARN "+progress.Thousands(r.Rows)+" "+name, "WARN "+progress.Thousands(r.Rows)+" "+secs
	case StatusFail:
		desc, tag = "FAIL "+progress.Thousands(r.Rows)+" "+name, "FAIL "+progress.Thousands(r.Rows)+" "+secs
	default:
		desc, tag = string(r.Status)+" "+name, string(r.Status)
	}
	line := fmt.Sprintf("%d of %d %s ", r.Index, r.Total, desc)
	tag = " [" + tag + "]"
	if pad := lineWidth - len(line) - len(tag); pad > 0 {
		line += strings.Repeat(".", pad)
	}
	return line + tag
}

func errorVerb(r Result) string {
	switch {
	case r.Kind == "test":
		return "running test"
	case r.Kind == "seed":
		return "loading seed"
	}
	return "creating " + r.Materialized
}

// FormatSummary renders the end of a run: the totals, then each error, failed test and
// warning with its message.
//
//	Finished 12 nodes in 1.52s: 3 built, 8 unchanged, 1 error.
func FormatSummary(s *Summary) string {
	var b strings.Builder
	c := s.Counts
	parts := []string{}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.Success, "built")
	add(c.SkippedUnchanged, "unchanged")
	add(c.Pass, "passed")
	add(c.Warn, "warned")
	add(c.Fail, "failed")
	add(c.Error, plural(c.Error, "error", "errors"))
	add(c.SkippedUpstreamFailed, "skipped")
	if len(parts) == 0 {
		parts = append(parts, "nothing to do")
	}
	fmt.Fprintf(&b, "Finished %d %s in %.2fs: %s.", len(s.Results), plural(len(s.Results), "node", "nodes"), s.Seconds, strings.Join(parts, ", "))
	if c.Success == 0 && c.Error == 0 && c.SkippedUnchanged > 0 && c.SkippedUnchanged == len(s.Results)-c.Pass-c.Warn-c.Fail {
		b.WriteString(" Nothing changed since the last run.")
	}
	for _, r := range s.Results {
		switch r.Status {
		case StatusError, StatusFail:
			b.WriteString("\n\n" + strings.ToUpper(string(r.Status)) + " " + r.Error)
		case StatusWarn:
			b.WriteString("\n\nWARN " + r.ID + ": " + r.Message)
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
