package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// ScheduleRuns is the log of cdp schedule: one row per job run or skipped firing, with the
// outcome of each step of a pipeline as JSON, so a long-running scheduler's history outlives
// its stderr.
var ScheduleRuns = warehouse.Relation{Schema: warehouse.StateSchema, Name: "schedule_runs"}

// EnsureSchedule creates the schedule log (and the _cdp schema) if they do not exist yet.
// Cheap and idempotent.
func EnsureSchedule(ctx context.Context, wh warehouse.Warehouse) error {
	d := wh.Dialect()
	t := d.Type
	stmts := []string{
		d.CreateSchema(warehouse.StateSchema),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			job %s NOT NULL,
			kind %s NOT NULL,
			status %s NOT NULL,
			started_at %s NOT NULL,
			seconds %s NOT NULL,
			error %s,
			steps %s
		)`, d.Relation(ScheduleRuns), t("string"), t("string"), t("string"), t("timestamp"), t("number"),
			t("string"), t("string")),
	}
	for _, s := range stmts {
		if err := wh.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare state schema %s: %w", warehouse.StateSchema, err)
		}
	}
	return nil
}

// ScheduleRun is one row of the schedule log.
type ScheduleRun struct {
	Job       string    `json:"job"`
	Kind      string    `json:"kind"`   // sync or pipeline
	Status    string    `json:"status"` // ok, error or skipped
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
	Error     string    `json:"error,omitempty"`
	Steps     string    `json:"steps,omitempty"` // a pipeline's step outcomes as a JSON array
}

// InsertScheduleRun renders the statement that records a run in the schedule log.
func InsertScheduleRun(d warehouse.Dialect, r ScheduleRun) string {
	orNull := func(s string) string {
		if s == "" {
			return "NULL"
		}
		return d.QuoteString(s)
	}
	return fmt.Sprintf("INSERT INTO %s (job, kind, status, started_at, seconds, error, steps) VALUES (%s, %s, %s, %s, %s, %s, %s)",
		d.Relation(ScheduleRuns), d.QuoteString(r.Job), d.QuoteString(r.Kind), d.QuoteString(r.Status),
		Timestamp(d, r.StartedAt), formatSeconds(r.Seconds), orNull(r.Error), orNull(r.Steps))
}

// ScheduleRunHistory returns the schedule log, oldest first; nothing when no job ever ran.
func ScheduleRunHistory(ctx context.Context, wh warehouse.Warehouse) ([]ScheduleRun, error) {
	if _, err := wh.Columns(ctx, ScheduleRuns); errors.Is(err, warehouse.ErrNotFound) {
		return nil, nil
	}
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT job, kind, status, started_at, seconds, coalesce(error, ''), coalesce(steps, '') FROM %s ORDER BY started_at, job",
		wh.Dialect().Relation(ScheduleRuns)))
	if err != nil {
		return nil, fmt.Errorf("read schedule runs: %w", err)
	}
	defer rows.Close()
	var out []ScheduleRun
	for rows.Next() {
		var r ScheduleRun
		if err := rows.Scan(&r.Job, &r.Kind, &r.Status, &r.StartedAt, &r.Seconds, &r.Error, &r.Steps); err != nil {
			return nil, fmt.Errorf("read schedule runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schedule runs: %w", err)
	}
	return out, nil
}
