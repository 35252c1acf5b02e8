package state

import (
	"context"
	"fmt"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Ledger is the load ledger: one row per file committed to a raw table.
var Ledger = warehouse.Relation{Schema: warehouse.StateSchema, Name: "load_ledger"}

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
