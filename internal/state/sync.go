package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// SyncSnapshot is the table of the rows a sync's destination acknowledged: one row per key with
// the digest of its mapped fields (row_hash) and the fields themselves as JSON text (payload).
// A sync plans by diffing its model against it and commits each acknowledged batch to it.
func SyncSnapshot(sync string) warehouse.Relation {
	return warehouse.Relation{Schema: warehouse.StateSchema, Name: "sync_snapshot_" + sync}
}

// SyncRejections holds the rows a destination refused, per sync and key, until a later run
// gets them through.
var SyncRejections = warehouse.Relation{Schema: warehouse.StateSchema, Name: "sync_rejections"}

// SyncRuns is the history of sync runs, one row per sync per run.
var SyncRuns = warehouse.Relation{Schema: warehouse.StateSchema, Name: "sync_runs"}

// EnsureSync creates the sync runs and rejections tables and, when sync is not "", the sync's
// snapshot table, if they do not exist yet. Cheap and idempotent.
func EnsureSync(ctx context.Context, wh warehouse.Warehouse, sync string) error {
	d := wh.Dialect()
	t := d.Type
	stmts := []string{
		d.CreateSchema(warehouse.StateSchema),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			run_id %s NOT NULL,
			sync %s NOT NULL,
			started_at %s NOT NULL,
			finished_at %s NOT NULL,
			status %s NOT NULL,
			added %s NOT NULL,
			changed %s NOT NULL,
			removed %s NOT NULL,
			rejected %s NOT NULL,
			retried %s NOT NULL,
			seconds %s NOT NULL,
			error %s
		)`, d.Relation(SyncRuns), t("string"), t("string"), t("timestamp"), t("timestamp"), t("string"),
			t("integer"), t("integer"), t("integer"), t("integer"), t("integer"), t("number"), t("string")),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			sync %s NOT NULL,
			key %s NOT NULL,
			action %s NOT NULL,
			reason %s NOT NULL,
			first_seen %s NOT NULL,
			last_seen %s NOT NULL,
			attempts %s NOT NULL
		)`, d.Relation(SyncRejections), t("string"), t("string"), t("string"), t("string"), t("timestamp"),
			t("timestamp"), t("integer")),
	}
	if sync != "" {
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			key %s NOT NULL,
			row_hash %s NOT NULL,
			payload %s NOT NULL,
			synced_at %s NOT NULL
		)`, d.Relation(SyncSnapshot(sync)), t("string"), t("string"), t("string"), t("timestamp")))
	}
	for _, s := range stmts {
		if err := wh.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare state schema %s: %w", warehouse.StateSchema, err)
		}
	}
	return nil
}

// SnapshotRows are rows to commit to a snapshot, by index.
type SnapshotRows struct {
	Keys     []string
	Hashes   []string
	Payloads []string
}

// CommitSnapshot renders the statements that record acknowledged rows in a sync's snapshot:
// rows whose key is in deleted are deleted (removed rows, and the old version of changed
// ones), then upserted rows are inserted. Run them in one ExecAtomic. Either may be empty.
// Adds need no delete: leaving their keys out of deleted saves a scan of the snapshot.
func CommitSnapshot(d warehouse.Dialect, sync string, upserted SnapshotRows, deleted []string) []string {
	rel := d.Relation(SyncSnapshot(sync))
	var stmts []string
	if len(deleted) > 0 {
		// The range lets the engine skip the parts of the snapshot whose keys cannot match: a
		// batch's keys are close together (the plan is sent in key order, and the snapshot was
		// written in it), so a commit reads a few row groups instead of the whole snapshot.
		lo, hi := slices.Min(deleted), slices.Max(deleted)
		stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE key >= %s AND key <= %s AND key IN (SELECT key FROM (%s) AS k)", rel,
			d.QuoteString(lo), d.QuoteString(hi), d.StringRows([]string{"key"}, [][]string{deleted})))
	}
	if len(upserted.Keys) > 0 {
		stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (key, row_hash, payload, synced_at) SELECT key, row_hash, payload, %s FROM (%s) AS r",
			rel, d.Now(), d.StringRows([]string{"key", "row_hash", "payload"}, [][]string{upserted.Keys, upserted.Hashes, upserted.Payloads})))
	}
	return stmts
}

// SyncRejection is a row a destination refused.
type SyncRejection struct {
	Sync      string    `json:"sync"`
	Key       string    `json:"key"`
	Action    string    `json:"action"`
	Reason    string    `json:"reason"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Attempts  int64     `json:"attempts"`
}

// RecordSyncRejections renders the statements that replace the rejection rows of rs's keys
// with rs (the caller carries first_seen and attempts over from the previous rows).
func RecordSyncRejections(d warehouse.Dialect, sync string, rs []SyncRejection) []string {
	if len(rs) == 0 {
		return nil
	}
	keys := make([]string, len(rs))
	var rows strings.Builder
	for i, r := range rs {
		keys[i] = r.Key
		if i > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "(%s, %s, %s, %s, %s, %s, %d)", d.QuoteString(sync), d.QuoteString(r.Key), d.QuoteString(r.Action),
			d.QuoteString(r.Reason), Timestamp(d, r.FirstSeen), Timestamp(d, r.LastSeen), r.Attempts)
	}
	return []string{
		DeleteSyncRejections(d, sync, keys),
		fmt.Sprintf("INSERT INTO %s (sync, key, action, reason, first_seen, last_seen, attempts) VALUES %s", d.Relation(SyncRejections), rows.String()),
	}
}

// DeleteSyncRejections renders the statement that forgets the rejections of keys, once they
// got through.
func DeleteSyncRejections(d warehouse.Dialect, sync string, keys []string) string {
	return fmt.Sprintf("DELETE FROM %s WHERE sync = %s AND key IN (SELECT key FROM (%s) AS k)", d.Relation(SyncRejections),
		d.QuoteString(sync), d.StringRows([]string{"key"}, [][]string{keys}))
}

// SyncRejectionsOf returns the current rejections of a sync by key.
func SyncRejectionsOf(ctx context.Context, wh warehouse.Warehouse, sync string) (map[string]SyncRejection, error) {
	d := wh.Dialect()
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT key, action, reason, first_seen, last_seen, attempts FROM %s WHERE sync = %s",
		d.Relation(SyncRejections), d.QuoteString(sync)))
	if err != nil {
		return nil, fmt.Errorf("read sync rejections: %w", err)
	}
	defer rows.Close()
	out := map[string]SyncRejection{}
	for rows.Next() {
		r := SyncRejection{Sync: sync}
		if err := rows.Scan(&r.Key, &r.Action, &r.Reason, &r.FirstSeen, &r.LastSeen, &r.Attempts); err != nil {
			return nil, fmt.Errorf("read sync rejections: %w", err)
		}
		out[r.Key] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sync rejections: %w", err)
	}
	return out, nil
}

// SyncRun is one sync's outcome in one run.
type SyncRun struct {
	RunID      string    `json:"run_id"`
	Sync       string    `json:"sync"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Status     string    `json:"status"` // ok, partial, refused, failed
	Added      int64     `json:"added"`
	Changed    int64     `json:"changed"`
	Removed    int64     `json:"removed"`
	Rejected   int64     `json:"rejected"`
	Retried    int64     `json:"retried"`
	Seconds    float64   `json:"seconds"`
	Error      string    `json:"error,omitempty"`
}

// InsertSyncRun renders the statement that records a sync run.
func InsertSyncRun(d warehouse.Dialect, r SyncRun) string {
	errText := "NULL"
	if r.Error != "" {
		errText = d.QuoteString(r.Error)
	}
	return fmt.Sprintf("INSERT INTO %s (run_id, sync, started_at, finished_at, status, added, changed, removed, rejected, retried, seconds, error) VALUES (%s, %s, %s, %s, %s, %d, %d, %d, %d, %d, %s, %s)",
		d.Relation(SyncRuns), d.QuoteString(r.RunID), d.QuoteString(r.Sync), Timestamp(d, r.StartedAt), Timestamp(d, r.FinishedAt),
		d.QuoteString(r.Status), r.Added, r.Changed, r.Removed, r.Rejected, r.Retried, formatSeconds(r.Seconds), errText)
}

// SyncRunHistory returns the runs of sync (every sync when ""), newest first, at most limit
// (0 = all). A warehouse where no sync ever ran has no history.
func SyncRunHistory(ctx context.Context, wh warehouse.Warehouse, sync string, limit int) ([]SyncRun, error) {
	d := wh.Dialect()
	where := ""
	if sync != "" {
		where = " WHERE sync = " + d.QuoteString(sync)
	}
	lim := ""
	if limit > 0 {
		lim = fmt.Sprintf(" LIMIT %d", limit)
	}
	return querySyncRuns(ctx, wh, fmt.Sprintf("SELECT %s FROM %s%s ORDER BY started_at DESC, sync%s", syncRunCols, d.Relation(SyncRuns), where, lim))
}

// LastSyncRuns returns each sync's latest run by sync name.
func LastSyncRuns(ctx context.Context, wh warehouse.Warehouse) (map[string]SyncRun, error) {
	d := wh.Dialect()
	runs, err := querySyncRuns(ctx, wh, fmt.Sprintf(`SELECT %[1]s FROM %[2]s AS r
		WHERE started_at = (SELECT max(started_at) FROM %[2]s AS l WHERE l.sync = r.sync)`, syncRunCols, d.Relation(SyncRuns)))
	if err != nil {
		return nil, err
	}
	out := map[string]SyncRun{}
	for _, r := range runs {
		out[r.Sync] = r
	}
	return out, nil
}

const syncRunCols = "run_id, sync, started_at, finished_at, status, added, changed, removed, rejected, retried, seconds, coalesce(error, '')"

func querySyncRuns(ctx context.Context, wh warehouse.Warehouse, q string) ([]SyncRun, error) {
	if _, err := wh.Columns(ctx, SyncRuns); errors.Is(err, warehouse.ErrNotFound) {
		return nil, nil
	}
	rows, err := wh.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read sync runs: %w", err)
	}
	defer rows.Close()
	var out []SyncRun
	for rows.Next() {
		var r SyncRun
		if err := rows.Scan(&r.RunID, &r.Sync, &r.StartedAt, &r.FinishedAt, &r.Status, &r.Added, &r.Changed, &r.Removed,
			&r.Rejected, &r.Retried, &r.Seconds, &r.Error); err != nil {
			return nil, fmt.Errorf("read sync runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sync runs: %w", err)
	}
	return out, nil
}
