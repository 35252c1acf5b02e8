package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

func init() { warehouse.Register("duckdb", Open) }

// stageCatalog is an in-memory database attached to every warehouse: staged files live there so
// they never touch the on-disk file (and its WAL) and vanish if the process dies. It is attached
// with COMPRESS, which costs nothing until CompactStaged checkpoints it.
const stageCatalog = "cdp_stage"

// Warehouse is an open DuckDB database.
type Warehouse struct {
	path string
	db   *sql.DB
	conn *duckdb.Connector
	lock *fileLock
	// memoryLimit is the target's memory_limit; "" when DuckDB's default applies.
	memoryLimit string
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// Open opens (creating if needed) the DuckDB file at cfg.Path, or an in-memory database when the
// path is empty or ":memory:", and takes the single-writer lock.
func Open(ctx context.Context, cfg warehouse.Config) (warehouse.Warehouse, error) {
	return OpenDuckDB(ctx, cfg)
}

// OpenDuckDB is Open with the concrete type, for tests and benchmarks that need the *sql.DB.
func OpenDuckDB(ctx context.Context, cfg warehouse.Config) (*Warehouse, error) {
	w := &Warehouse{path: cfg.Path, memoryLimit: cfg.MemoryLimit}
	dsn := ""
	if cfg.Path != "" && cfg.Path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
			return nil, fmt.Errorf("create warehouse directory: %w", err)
		}
		lock, err := lockFile(cfg.Path, cfg.Holder)
		if err != nil {
			return nil, err
		}
		w.lock = lock
		if err := createIfMissing(cfg.Path); err != nil {
			lock.release()
			return nil, err
		}
		dsn = cfg.Path
	}
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		// Timestamps are shown and compared in UTC whatever the host's zone, so results do not
		// depend on where cdp runs. This runs for every new pooled connection, long after Open
		// returned, so it must not use Open's ctx: once that is cancelled, no connection could
		// be made.
		_, err := execer.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		w.lock.release()
		return nil, fmt.Errorf("open warehouse %s: %w", displayPath(cfg.Path), err)
	}
	w.conn = connector
	w.db = sql.OpenDB(connector)
	if _, err := w.db.ExecContext(ctx, "ATTACH IF NOT EXISTS ':memory:' AS "+stageCatalog+" (COMPRESS)"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open warehouse %s: %w", displayPath(cfg.Path), err)
	}
	if cfg.MemoryLimit != "" {
		if _, err := w.db.ExecContext(ctx, "SET memory_limit = "+Dialect{}.QuoteString(cfg.MemoryLimit)); err != nil {
			w.Close()
			return nil, fmt.Errorf("open warehouse %s: memory_limit %q: %w", displayPath(cfg.Path), cfg.MemoryLimit, wrapErr(err))
		}
	}
	return w, nil
}

func displayPath(p string) string {
	if p == "" {
		return ":memory:"
	}
	return p
}

// DB exposes the connection pool for benchmarks comparing cdp with plain DuckDB.
func (w *Warehouse) DB() *sql.DB { return w.db }

func (w *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

func (w *Warehouse) Exec(ctx context.Context, query string, args ...any) error {
	_, err := w.db.ExecContext(ctx, query, args...)
	return wrapErr(err)
}

func (w *Warehouse) ExecAtomic(ctx context.Context, stmts ...string) (err error) {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return wrapErr(err)
	}
	defer func() {
		if err != nil {
			// Use a fresh context: a cancelled ctx must still roll back.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return wrapErr(err)
		}
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return wrapErr(err)
}

func (w *Warehouse) Query(ctx context.Context, query string, args ...any) (warehouse.Rows, error) {
	rows, err := w.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrapErr(err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	cols := make([]warehouse.Column, len(types))
	for i, t := range types {
		nullable, _ := t.Nullable()
		cols[i] = warehouse.Column{Name: t.Name(), Type: t.DatabaseTypeName(), Nullable: nullable}
	}
	return &resultRows{rows: rows, cols: cols}, nil
}

func (w *Warehouse) Columns(ctx context.Context, rel warehouse.Relation) ([]warehouse.Column, error) {
	schema := rel.Schema
	if schema == "" {
		schema = "main"
	}
	rows, err := w.db.QueryContext(ctx, `SELECT column_name, data_type, is_nullable = 'YES'
		FROM information_schema.columns
		WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?
		ORDER BY ordinal_position`, schema, rel.Name)
	if err != nil {
		return nil, wrapErr(err)
	}
	defer rows.Close()
	var cols []warehouse.Column
	for rows.Next() {
		var c warehouse.Column
		if err := rows.Scan(&c.Name, &c.Type, &c.Nullable); err != nil {
			return nil, err
		}
		c.Type = catalogTypeNames.Replace(c.Type)
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: %w", rel, warehouse.ErrNotFound)
	}
	return cols, nil
}

// catalogTypeNames maps the catalog's spelling of types to the one the driver reports for query
// results and Dialect.Type renders, so Columns, Rows.Columns and Dialect.Type agree.
var catalogTypeNames = strings.NewReplacer(
	"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ",
	"TIME WITH TIME ZONE", "TIMETZ",
)

func (w *Warehouse) DropStaged(ctx context.Context, name string) error {
	return w.Exec(ctx, "DROP TABLE IF EXISTS "+stageRef(name))
}

func (w *Warehouse) Staged(name string) string { return stageRef(name) }

func stageRef(name string) string {
	return stageCatalog + ".main." + Dialect{}.QuoteIdent(name)
}

func (w *Warehouse) Close() error {
	var errs []error
	if w.db != nil {
		errs = append(errs, w.db.Close())
	}
	if w.conn != nil {
		errs = append(errs, w.conn.Close())
	}
	errs = append(errs, w.lock.release())
	return errors.Join(errs...)
}

// wrapErr strips the driver's noise while keeping DuckDB's message, which already says what and
// where ("Binder Error: Referenced column "x" not found ... LINE 1: ...").
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		return &Error{Msg: strings.TrimSpace(de.Msg), Type: de.Type, err: err}
	}
	return err
}

// Error is a DuckDB error with its kind (Binder, Parser, Conversion, ...).
type Error struct {
	Msg  string
	Type duckdb.ErrorType
	err  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.err }

type resultRows struct {
	rows *sql.Rows
	cols []warehouse.Column
	vals []any
}

func (r *resultRows) Columns() []warehouse.Column { return r.cols }
func (r *resultRows) Next() bool                  { return r.rows.Next() }
func (r *resultRows) Scan(dest ...any) error      { return r.rows.Scan(dest...) }
func (r *resultRows) Err() error                  { return wrapErr(r.rows.Err()) }
func (r *resultRows) Close() error                { return r.rows.Close() }

func (r *resultRows) Values() ([]any, error) {
	vals := make([]any, len(r.cols))
	ptrs := make([]any, len(r.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		vals[i] = portableValue(r.cols[i].Type, v)
	}
	return vals, nil
}

// portableValue turns the driver's engine-specific values into the plain Go values Rows.Values
// promises: decimals as json.Number (exact, and a number in JSON), UUIDs, intervals and times of
// day as text, dates as "2006-01-02" rather than a midnight timestamp.
func portableValue(typ string, v any) any {
	switch x := v.(type) {
	case duckdb.Decimal:
		return json.Number(x.String())
	case *duckdb.Decimal:
		return json.Number(x.String())
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %s", x.Months, x.Days, time.Duration(x.Micros)*time.Microsecond)
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String()
		}
	case time.Time:
		if typ == "DATE" {
			return x.Format("2006-01-02")
		}
		if strings.HasPrefix(typ, "TIME") && !strings.HasPrefix(typ, "TIMESTAMP") {
			return x.Format("15:04:05.999999")
		}
	}
	return v
}

// StorageVersion is the storage format of the warehouse files cdp creates. DuckDB writes new
// files in its oldest readable format (v0.10.2) unless told otherwise, and that format cannot
// compress strings with zstd: the loader's document column (the original payload of every
// event, most of a warehouse's bytes) would be stored uncompressed. Files from v1.2.0 on are
// read by DuckDB 1.2 and later only; files cdp made before keep their version.
const StorageVersion = "v1.2.0"

// createIfMissing makes a new, empty database file at path atomically: DuckDB writes a new
// file's header in several steps, so a process killed while creating it would leave a file
// DuckDB refuses to open ("not a valid DuckDB database file"). The file is created under a
// temporary name and renamed into place, so path is either absent or a valid database. The
// caller holds the warehouse lock.
func createIfMissing(path string) error {
	if info, err := os.Stat(path); err == nil && info.Size() > 0 {
		return nil
	} else if err == nil {
		// An empty file holds no data: left by something killed before it wrote anything.
		if err := os.Remove(path); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp := path + ".creating"
	_ = os.Remove(tmp)
	_ = os.Remove(tmp + ".wal")
	// The file is made by attaching it to an in-memory database, which is how DuckDB takes a
	// storage version for a new file.
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("create warehouse %s: %w", path, err)
	}
	db := sql.OpenDB(c)
	_, err = db.Exec("ATTACH " + Dialect{}.QuoteString(tmp) + " AS cdp_new (STORAGE_VERSION '" + StorageVersion + "')")
	if err == nil {
		_, err = db.Exec("CHECKPOINT cdp_new")
	}
	if err == nil {
		_, err = db.Exec("DETACH cdp_new")
	}
	db.Close()
	c.Close()
	if err != nil {
		return fmt.Errorf("create warehouse %s: %w", path, err)
	}
	_ = os.Remove(tmp + ".wal")
	return os.Rename(tmp, path)
}

// SyncMemoryLimit is the memory DuckDB may use while a sync runs (CapMemory). Past it, DuckDB
// spills joins, sorts and tables to disk. It is not the process's peak: cdp's own heap and
// DuckDB's allocations outside the limit come on top (docs/benchmarks.md, "Syncs").
const SyncMemoryLimit = "160MB"

// CapMemory sets DuckDB's memory_limit to SyncMemoryLimit until restore is called. DuckDB's
// default, 80% of RAM, suits builds; a sync does one big diff and then streams, and shares the
// machine with whatever runs beside it. A target's own memory_limit wins: it is how a user
// gives a sync more memory (or less).
func (w *Warehouse) CapMemory(ctx context.Context) (restore func(context.Context) error, err error) {
	if w.memoryLimit != "" {
		return func(context.Context) error { return nil }, nil
	}
	if err := w.Exec(ctx, "SET memory_limit = '"+SyncMemoryLimit+"'"); err != nil {
		return nil, err
	}
	// RESET, not a SET of the value read before: DuckDB shows it rounded ("18.8 GiB"), and
	// without a target's limit the default is what was in effect.
	return func(ctx context.Context) error {
		return w.Exec(ctx, "RESET memory_limit")
	}, nil
}

// CompactStaged compresses the staged tables, which an in-memory database holds uncompressed
// until it is checkpointed: a sync's plan of 5M keys takes ~18 MB instead of ~150 MB of the
// memory the sync is capped at.
func (w *Warehouse) CompactStaged(ctx context.Context) error {
	return w.Exec(ctx, "CHECKPOINT "+stageCatalog)
}

// RowNumber is DuckDB's rowid: the position of a row in the order it was inserted, which is the
// ORDER BY of a CREATE TABLE AS as long as preserve_insertion_order is on (the default).
func (w *Warehouse) RowNumber() string { return "rowid" }
