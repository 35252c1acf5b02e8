package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// sampleRows is how many failing rows a test's message shows.
const sampleRows = 5

// runTest runs a data test: its SQL selects the failing rows. No failing rows is a pass; some
// is a warn (severity warn: the run goes on and nothing downstream is skipped) or a fail
// (severity error: the nodes that wait for the test are skipped). The message shows the count
// and up to five of the rows as text.
func (e *execution) runTest(ctx context.Context, n *compile.Node, res *Result) {
	sql := n.SQL
	if strings.TrimSpace(sql) == "" {
		sql = n.SingularSQL
	}
	if strings.TrimSpace(sql) == "" {
		res.Status, res.Error = StatusError, nodeErr(n, errors.New("test has no SQL")).Error()
		return
	}
	failing, err := countRows(ctx, e.wh, subquery(sql)+" AS cdp_test")
	if err != nil {
		res.Status, res.Error = StatusError, nodeErr(n, err).Error()
		return
	}
	res.Rows = failing
	if failing == 0 {
		res.Status = StatusPass
		return
	}
	sample, err := sampleText(ctx, e.wh, sql)
	if err != nil {
		sample = "(could not read a sample: " + err.Error() + ")"
	}
	plural := "s"
	if failing == 1 {
		plural = ""
	}
	res.Message = fmt.Sprintf("%d failing row%s: %s", failing, plural, sample)
	if severity(n) == "warn" {
		res.Status = StatusWarn
		return
	}
	res.Status = StatusFail
	res.Error = nodeErr(n, errors.New(res.Message)).Error()
}

// severity is the test's severity, "error" unless it says warn.
func severity(n *compile.Node) string {
	s := ""
	if n.Test != nil {
		s = n.Test.Severity
	}
	if s == "" {
		if v, ok := n.Config.Extra["severity"].(string); ok {
			s = v
		}
	}
	if strings.EqualFold(s, "warn") {
		return "warn"
	}
	return "error"
}

// sampleText renders up to sampleRows failing rows: (id=1, email=NULL); (id=2, ...).
func sampleText(ctx context.Context, wh warehouse.Warehouse, sql string) (string, error) {
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT * FROM %s AS cdp_test LIMIT %d", subquery(sql), sampleRows))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols := rows.Columns()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = cols[i].Name + "=" + valueText(v)
		}
		out = append(out, "("+strings.Join(parts, ", ")+")")
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return strings.Join(out, "; "), nil
}

func valueText(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		s = x
	case []byte:
		s = fmt.Sprintf("%x", x)
	case time.Time:
		s = x.UTC().Format("2006-01-02 15:04:05.999999Z07:00")
	default:
		s = fmt.Sprint(x)
	}
	const max = 60
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
