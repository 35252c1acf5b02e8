package state

import (
	"context"
	"fmt"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Ledger is the load ledger: one row per file committed to a raw table.
var Ledger = warehouse.Relation{Schema: warehouse.StateSchema, Name: "load_ledger"}

// DataVersions records every change to a relation's data (a load, a rebuild) as a new row with
// the next version number; a relation's data version is its largest. Append-only, so bumping a
// version is a plain INSERT that any engine can run inside the transaction that changed the data.
var DataVersions = warehouse.Relation{Schema: warehouse.StateSchema, Name: "data_versions"}

// Ensure creates the _cdp schema and its tables if they do not exist yet. It is cheap and
// idempotent, so every command that touches state calls it first.
func Ensure(ctx context.Context, wh warehouse.Warehouse) error {
	d := wh.Dialect()
	t := d.Type
	stmts := []string{
		d.CreateSchema(warehouse.StateSchema),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			source %s NOT NULL,
			checksum %s NOT NULL,
			file %s NOT NULL,
			load_id %s NOT NULL,
			bytes %s,
			rows_read %s,
			rows_loaded %s,
			duplicates %s,
			quarantined %s,
			loaded_at %s NOT NULL
		)`, d.Relation(Ledger), t("string"), t("string"), t("string"), t("string"), t("integer"),
			t("integer"), t("integer"), t("integer"), t("integer"), t("timestamp")),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
			relation %s NOT NULL,
			version %s NOT NULL,
			changed_at %s NOT NULL,
			reason %s
		)`, d.Relation(DataVersions), t("string"), t("integer"), t("timestamp"), t("string")),
	}
	for _, s := range stmts {
		if err := wh.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare state schema %s: %w", warehouse.StateSchema, err)
		}
	}
	return nil
}

// LedgerEntry is a committed file.
type LedgerEntry struct {
	Source      string
	Checksum    string
	File        string
	LoadID      string
	Bytes       int64
	RowsRead    int64
	RowsLoaded  int64
	Duplicates  int64
	Quarantined int64
}

// InsertLedger renders the statement that records a committed file. It is meant to run inside
// the same ExecAtomic as the rows it describes, so the ledger never disagrees with the data.
func InsertLedger(d warehouse.Dialect, e LedgerEntry) string {
	q := d.QuoteString
	return fmt.Sprintf("INSERT INTO %s VALUES (%s, %s, %s, %s, %d, %d, %d, %d, %d, %s)",
		d.Relation(Ledger), q(e.Source), q(e.Checksum), q(e.File), q(e.LoadID), e.Bytes, e.RowsRead,
		e.RowsLoaded, e.Duplicates, e.Quarantined, d.Now())
}

// LoadedFile reports whether a file with this checksum was already committed for source, and
// the name it was loaded under.
func LoadedFile(ctx context.Context, wh warehouse.Warehouse, source, checksum string) (string, bool, error) {
	d := wh.Dialect()
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT file FROM %s WHERE source = %s AND checksum = %s LIMIT 1",
		d.Relation(Ledger), d.QuoteString(source), d.QuoteString(checksum)))
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return "", false, rows.Err()
	}
	var file string
	if err := rows.Scan(&file); err != nil {
		return "", false, err
	}
	return file, true, nil
}

// BumpDataVersion renders the statement that records a change to rel's data. Run it in the same
// transaction as the change, so a version never exists without its data or the other way round.
func BumpDataVersion(d warehouse.Dialect, rel warehouse.Relation, reason string) string {
	name := d.QuoteString(rel.String())
	return fmt.Sprintf("INSERT INTO %[1]s (relation, version, changed_at, reason) SELECT %[2]s, coalesce(max(version), 0) + 1, %[3]s, %[4]s FROM %[1]s WHERE relation = %[2]s",
		d.Relation(DataVersions), name, d.Now(), d.QuoteString(reason))
}

// DataVersion returns rel's current data version, 0 if it never changed.
func DataVersion(ctx context.Context, wh warehouse.Warehouse, rel warehouse.Relation) (int64, error) {
	d := wh.Dialect()
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT coalesce(max(version), 0) FROM %s WHERE relation = %s",
		d.Relation(DataVersions), d.QuoteString(rel.String())))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var v int64
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return 0, err
		}
	}
	return v, rows.Err()
}

// DataVersionsAll returns every relation's current data version, for deciding in one query
// which models need a rebuild.
func DataVersionsAll(ctx context.Context, wh warehouse.Warehouse) (map[string]int64, error) {
	rows, err := wh.Query(ctx, fmt.Sprintf("SELECT relation, max(version) FROM %s GROUP BY relation", wh.Dialect().Relation(DataVersions)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var rel string
		var v int64
		if err := rows.Scan(&rel, &v); err != nil {
			return nil, err
		}
		out[rel] = v
	}
	return out, rows.Err()
}
