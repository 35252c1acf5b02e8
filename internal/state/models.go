package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// ModelStates records, per model or seed, what its relation was last built from: the
// fingerprint of its definition and the data versions of its inputs at the time. One row per
// node; a rebuild replaces it in the same transaction as the data it describes.
var ModelStates = warehouse.Relation{Schema: warehouse.StateSchema, Name: "model_state"}

// RunLog is the history of runs: one row per node per run, whatever its outcome.
var RunLog = warehouse.Relation{Schema: warehouse.StateSchema, Name: "run_log"}

// EnsureRun creates the model state and run log tables (and the _cdp schema) if they do not
// exist yet. Like Ensure it is cheap and idempotent.
func EnsureRun(ctx context.Context, wh warehouse.Warehouse) error {
	d := wh.Dialect()
	t := d.Type
	stmts := []string{
		d.CreateSchema(warehouse.StateSchema),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			node_id %s NOT NULL,
			relation %s NOT NULL,
			fingerprint %s NOT NULL,
			input_versions %s NOT NULL,
			built_at %s NOT NULL
		)`, d.Relation(ModelStates), t("string"), t("string"), t("string"), t("string"), t("timestamp")),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			run_id %s NOT NULL,
			node_id %s NOT NULL,
			kind %s NOT NULL,
			status %s NOT NULL,
			rows %s,
			seconds %s,
			error %s,
			started_at %s NOT NULL
		)`, d.Relation(RunLog), t("string"), t("string"), t("string"), t("string"), t("integer"),
			t("number"), t("string"), t("timestamp")),
	}
	for _, s := range stmts {
		if err := wh.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare state schema %s: %w", warehouse.StateSchema, err)
		}
	}
	return nil
}

// ModelState is what a model or seed was last built from.
type ModelState struct {
	NodeID      string
	Relation    string // schema.name it was built into
	Fingerprint string
	// InputVersions maps each input relation (schema.name) to its data version when the node
	// was built.
	InputVersions map[string]int64
	BuiltAt       time.Time
}

// RecordModelState renders the statements that replace a node's model state (a delete and an
// insert, which every engine runs). Run them in the transaction that swaps in the data they
// describe. BuiltAt is ignored: the row gets the warehouse's current time.
func RecordModelState(d warehouse.Dialect, s ModelState) []string {
	versions := s.InputVersions
	if versions == nil {
		versions = map[string]int64{}
	}
	js, _ := json.Marshal(versions) // a map of string to int64 always marshals; keys sorted
	rel := d.Relation(ModelStates)
	return []string{
		fmt.Sprintf("DELETE FROM %s WHERE node_id = %s", rel, d.QuoteString(s.NodeID)),
		fmt.Sprintf("INSERT INTO %s (node_id, relation, fingerprint, input_versions, built_at) VALUES (%s, %s, %s, %s, %s)",
			rel, d.QuoteString(s.NodeID), d.QuoteString(s.Relation), d.QuoteString(s.Fingerprint),
			d.QuoteString(string(js)), d.Now()),
	}
}

// LoadModelStates returns every node's model state by node ID, in one query.
func LoadModelStates(ctx context.Context, wh warehouse.Warehouse) (map[string]ModelState, error) {
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT node_id, relation, fingerprint, input_versions, built_at FROM %s",
		wh.Dialect().Relation(ModelStates)))
	if err != nil {
		return nil, fmt.Errorf("read model state: %w", err)
	}
	defer rows.Close()
	out := map[string]ModelState{}
	for rows.Next() {
		var s ModelState
		var versions string
		if err := rows.Scan(&s.NodeID, &s.Relation, &s.Fingerprint, &versions, &s.BuiltAt); err != nil {
			return nil, fmt.Errorf("read model state: %w", err)
		}
		if err := json.Unmarshal([]byte(versions), &s.InputVersions); err != nil {
			// A damaged row only costs a rebuild: the node no longer matches anything.
			s.InputVersions = nil
			s.Fingerprint = ""
		}
		out[s.NodeID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read model state: %w", err)
	}
	return out, nil
}

// RunLogEntry is one node's outcome in one run.
type RunLogEntry struct {
	RunID     string
	NodeID    string
	Kind      string // model, seed, test
	Status    string
	Rows      int64
	Seconds   float64
	Error     string
	StartedAt time.Time
}

// InsertRunLog renders one INSERT of the entries (which must not be empty).
func InsertRunLog(d warehouse.Dialect, entries ...RunLogEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (run_id, node_id, kind, status, rows, seconds, error, started_at) VALUES ", d.Relation(RunLog))
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		errText := "NULL"
		if e.Error != "" {
			errText = d.QuoteString(e.Error)
		}
		fmt.Fprintf(&b, "(%s, %s, %s, %s, %d, %s, %s, %s)", d.QuoteString(e.RunID), d.QuoteString(e.NodeID),
			d.QuoteString(e.Kind), d.QuoteString(e.Status), e.Rows, formatSeconds(e.Seconds), errText,
			Timestamp(d, e.StartedAt))
	}
	return b.String()
}

func formatSeconds(s float64) string {
	return fmt.Sprintf("%.6f", s)
}

// Timestamp renders a timestamp literal (UTC, microseconds).
func Timestamp(d warehouse.Dialect, t time.Time) string {
	return d.TryCast(d.QuoteString(t.UTC().Format("2006-01-02 15:04:05.000000")+"+00"), "timestamp")
}

// RunLogEntries returns the run log of one run (every run when runID is ""), oldest first.
func RunLogEntries(ctx context.Context, wh warehouse.Warehouse, runID string) ([]RunLogEntry, error) {
	d := wh.Dialect()
	where := ""
	if runID != "" {
		where = " WHERE run_id = " + d.QuoteString(runID)
	}
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT run_id, node_id, kind, status, coalesce(rows, 0), coalesce(seconds, 0), coalesce(error, ''), started_at FROM %s%s ORDER BY started_at, node_id",
		d.Relation(RunLog), where))
	if err != nil {
		return nil, fmt.Errorf("read run log: %w", err)
	}
	defer rows.Close()
	var out []RunLogEntry
	for rows.Next() {
		var e RunLogEntry
		if err := rows.Scan(&e.RunID, &e.NodeID, &e.Kind, &e.Status, &e.Rows, &e.Seconds, &e.Error, &e.StartedAt); err != nil {
			return nil, fmt.Errorf("read run log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read run log: %w", err)
	}
	return out, nil
}
