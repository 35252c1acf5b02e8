package warehouse

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// StateSchema is the schema that holds cdp's own state (load ledger, fingerprints, run log,
// sync snapshots) next to the user's data.
const StateSchema = "_cdp"

// Relation names a table or view.
type Relation struct {
	Schema string
	Name   string
}

func (r Relation) String() string {
	if r.Schema == "" {
		return r.Name
	}
	return r.Schema + "." + r.Name
}

// Column describes one column of a relation.
type Column struct {
	Name     string
	Type     string // engine type name, upper case (VARCHAR, BIGINT, TIMESTAMP WITH TIME ZONE, ...)
	Nullable bool
}

// Rows is a streaming result: rows are fetched as Next is called, never all at once.
type Rows interface {
	Columns() []Column
	Next() bool
	// Scan copies the current row into dest, like database/sql.
	Scan(dest ...any) error
	// Values returns the current row as Go values (string, int64, float64, bool, time.Time,
	// []byte, nil, or engine-specific values for nested types).
	Values() ([]any, error)
	Err() error
	Close() error
}

// Format is the layout of a file handed to Warehouse.Load.
type Format string

const (
	// FormatLines stages a text file one line per row: (line BIGINT, text VARCHAR). Lines that
	// are not valid UTF-8 are staged with text NULL and their bytes in raw, so nothing is lost.
	FormatLines Format = "lines"
	// FormatCSV stages a CSV file with a header, every column as VARCHAR, plus the line number.
	FormatCSV Format = "csv"
	// FormatParquet stages a Parquet file with its own types plus the row number.
	FormatParquet Format = "parquet"
)

// LoadRequest asks the engine to stage one local file in a scratch table. The engine uses its
// fastest native path and picks where the table lives (DuckDB: in memory); the caller validates
// and moves rows with portable SQL afterwards and drops the table with DropStaged.
type LoadRequest struct {
	Path   string // local file; gzip is detected from its content and decompressed
	Format Format // how to stage it
	Name   string // unique name for the staging table, [a-z0-9_]
	// Progress, when set, is called now and then with the number of file bytes consumed so far.
	Progress func(bytes int64)
}

// LoadResult says what was staged.
//
// Staged tables have these columns:
//   - FormatLines: line BIGINT (1-based), text VARCHAR (NULL when not UTF-8), raw BLOB (the
//     bytes, set only when text is NULL)
//   - FormatCSV: line BIGINT (first line of the record), text VARCHAR (the record as written),
//     fields VARCHAR[] (NULL when the record is malformed), error VARCHAR (why it is malformed)
//   - FormatParquet: line BIGINT (1-based row number) and the file's own columns
type LoadResult struct {
	Table    string   // rendered SQL reference to the staging table
	Rows     int64    // rows staged
	Bytes    int64    // bytes read from the file (compressed size for gzip)
	Checksum string   // hex SHA-256 of the file's bytes as stored on disk
	Header   []string // CSV: the header's field names; Parquet: the file's column names
}

// Warehouse is one open connection to one engine.
type Warehouse interface {
	Dialect() Dialect
	// Exec runs one or more statements that return no rows.
	Exec(ctx context.Context, sql string, args ...any) error
	// ExecAtomic runs statements in one transaction: all take effect or none do, even if the
	// process is killed part-way.
	ExecAtomic(ctx context.Context, stmts ...string) error
	// Query runs a statement and streams its rows.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// Load stages one file into a scratch table with the engine's native bulk path.
	Load(ctx context.Context, req LoadRequest) (LoadResult, error)
	// Staged is the SQL reference of a scratch table in the staging area, where Load puts files;
	// callers may create their own intermediate tables there.
	Staged(name string) string
	// DropStaged removes a staging-area table; dropping one that does not exist is not an error.
	DropStaged(ctx context.Context, name string) error
	// Columns describes a relation; ErrNotFound if it does not exist.
	Columns(ctx context.Context, rel Relation) ([]Column, error)
	Close() error
}

// ErrNotFound is returned (wrapped) when a relation does not exist.
var ErrNotFound = errors.New("relation not found")

// Config selects and configures an engine. It is plain data so the config package can build it
// without importing any engine.
type Config struct {
	Type string // "duckdb" or "bigquery"
	// DuckDB
	Path string // database file; "" or ":memory:" for an in-memory database
	// MemoryLimit is DuckDB's memory_limit ("4GB"); "" keeps the engine's default.
	MemoryLimit string
	// BigQuery
	Project  string
	Dataset  string
	Location string
	// Holder describes who opens the warehouse ("cdp load"), shown to a second process that finds
	// it locked.
	Holder string
}

// Opener opens a warehouse for a Config.
type Opener func(ctx context.Context, cfg Config) (Warehouse, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes an engine available to Open. Engines call it from init.
func Register(typ string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[typ]; dup {
		panic("warehouse: engine registered twice: " + typ)
	}
	openers[typ] = open
}

// Open connects to the engine named by cfg.Type.
func Open(ctx context.Context, cfg Config) (Warehouse, error) {
	mu.RLock()
	open, ok := openers[cfg.Type]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("warehouse type %q is not available in this build (available: %s)", cfg.Type, strings.Join(Engines(), ", "))
	}
	return open(ctx, cfg)
}

// Engines lists the registered engine types.
func Engines() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(openers))
	for n := range openers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
