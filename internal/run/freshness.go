package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// FreshnessStatus is the outcome of one source table's freshness check.
type FreshnessStatus string

const (
	FreshnessPass  FreshnessStatus = "pass"
	FreshnessWarn  FreshnessStatus = "warn"  // older than warn_after
	FreshnessError FreshnessStatus = "error" // older than error_after, or no rows to tell
	// FreshnessRuntimeError: the check could not run (the table or column does not exist).
	FreshnessRuntimeError FreshnessStatus = "runtime_error"
)

// FreshnessResult is one source table's freshness.
type FreshnessResult struct {
	Source      string          `json:"source"` // "raw.events"
	Relation    string          `json:"relation"`
	Status      FreshnessStatus `json:"status"`
	MaxLoadedAt time.Time       `json:"max_loaded_at,omitzero"`
	Age         time.Duration   `json:"-"`
	AgeSeconds  float64         `json:"age_seconds"`
	WarnAfter   time.Duration   `json:"-"`
	ErrorAfter  time.Duration   `json:"-"`
	Error       string          `json:"error,omitempty"`
}

// Freshness checks each source table that has a freshness rule and a loaded_at_field: the
// newest loaded_at_field (rows matching the rule's filter only) against warn_after and
// error_after, at now. A table that cannot be queried is a runtime_error result, not an error:
// the error is only for a cancelled ctx.
func Freshness(ctx context.Context, wh warehouse.Warehouse, sources []*project.SourceTable, now time.Time) ([]FreshnessResult, error) {
	rels := SourceRelations(sources)
	var out []FreshnessResult
	for _, s := range sources {
		if s.Freshness == nil || s.LoadedAtField == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		rel := rels[s.ID]
		r := FreshnessResult{Source: s.ID, Relation: rel.String(), WarnAfter: s.Freshness.WarnAfter, ErrorAfter: s.Freshness.ErrorAfter}
		maxAt, found, err := maxLoadedAt(ctx, wh, rel, s.LoadedAtField, s.Freshness.Filter)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			r.Status, r.Error = FreshnessRuntimeError, sourceErr(s, err).Error()
		case !found:
			r.Status = FreshnessError
			r.Error = sourceErr(s, fmt.Errorf("no rows with a %s to tell how fresh it is", s.LoadedAtField)).Error()
		default:
			r.MaxLoadedAt = maxAt
			r.Age = now.Sub(maxAt)
			r.AgeSeconds = r.Age.Seconds()
			switch {
			case r.ErrorAfter > 0 && r.Age > r.ErrorAfter:
				r.Status = FreshnessError
			case r.WarnAfter > 0 && r.Age > r.WarnAfter:
				r.Status = FreshnessWarn
			default:
				r.Status = FreshnessPass
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func sourceErr(s *project.SourceTable, err error) error {
	if s.Pos.File != "" {
		return fmt.Errorf("source %s (%s): %w", s.ID, s.Pos, err)
	}
	return fmt.Errorf("source %s: %w", s.ID, err)
}

// maxLoadedAt returns the newest value of the loaded_at_field expression (used as written, as
// dbt does, so it may be an expression).
func maxLoadedAt(ctx context.Context, wh warehouse.Warehouse, rel warehouse.Relation, field, filter string) (time.Time, bool, error) {
	q := fmt.Sprintf("SELECT max(%s) FROM %s", field, wh.Dialect().Relation(rel))
	if strings.TrimSpace(filter) != "" {
		q += " WHERE " + filter
	}
	rows, err := wh.Query(ctx, q)
	if err != nil {
		return time.Time{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return time.Time{}, false, rows.Err()
	}
	vals, err := rows.Values()
	if err != nil {
		return time.Time{}, false, err
	}
	if err := rows.Err(); err != nil {
		return time.Time{}, false, err
	}
	switch v := vals[0].(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return v, true, nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, true, nil
			}
		}
		return time.Time{}, false, fmt.Errorf("loaded_at_field %s is %q, not a timestamp", field, v)
	default:
		return time.Time{}, false, fmt.Errorf("loaded_at_field %s is a %T (%v), not a timestamp", field, v, v)
	}
}
