// Package postgres is the PostgreSQL destination: it keeps a table equal to a sync's rows, one
// row per key, creating the table and adding columns as the sync's mapping grows.
//
//	destination:
//	  type: postgres
//	  url: ${CDP_PG_URL}       # postgres://user:password@host:5432/db?sslmode=require
//	  schema: public           # default public
//	  table: vip_customers     # required
//	  key_column: cdp_key      # the column that holds the row's key, default cdp_key
//	  batch_size: 5000         # rows per transaction, 1 to 50000
//	  concurrency: 4           # transactions (connections) at once, 1 to 32
//	  timeout: 5m              # per batch
//
// The table. On the first batch, a missing table is created: the key column (text PRIMARY
// KEY), one column per mapped field, and cdp_synced_at timestamptz (when the row was last
// written). A field the table does not have yet is added with ALTER TABLE ... ADD COLUMN;
// existing rows get NULL in it. New columns take the type of the field's values: text,
// bigint, double precision, boolean, timestamptz, or jsonb for lists and objects (text when
// the batch only has NULLs, or values of different types; double precision for integers mixed
// with fractions). Columns are never dropped or retyped. A table made beforehand is used as it
// is, whatever its columns' types, as long as the key column has a primary key or unique index
// (cdp_synced_at is added to it when missing).
//
// Values meet existing columns as follows: anything goes into a text column (as
// destination.FormatValue writes it: numbers without exponent, times in RFC 3339, lists and
// objects as JSON); integers go into integer and floating columns, whole floats into integer
// columns, text that parses into numeric, boolean and time columns, anything into json and
// jsonb. Any other combination (text into a bigint column, a number out of an integer column's
// range, text PostgreSQL cannot hold: a NUL byte or invalid UTF-8) rejects that row, with a
// reason naming the field, the column and its type, and the ALTER TABLE that would make room.
// Nothing is ever dropped or truncated quietly.
//
// Modes: mirror, upsert and audience upsert adds and changes (INSERT ... ON CONFLICT (key) DO
// UPDATE of the mapped columns) and delete removes. Upsert mode is sent no removes for rows that
// leave the model, so it never deletes those; the engine sends removes in any mode for rows whose
// consent was withdrawn, and those are deleted whatever the mode. Insert mode inserts adds with
// ON CONFLICT (key) DO NOTHING: a key already in the table keeps its row and is acknowledged,
// since the row insert mode wants is there (it is also what a batch resent after a lost
// acknowledgement finds); rejecting it would plan it again on every run. The engine sends no
// changes in insert mode; a change sent anyway updates its row.
//
// One transaction per batch: the rows are COPYed into a temporary table, then one DELETE ...
// USING and one INSERT ... SELECT ... ON CONFLICT apply them, and the transaction commits all
// of the batch or none of it. Upserts and deletes are idempotent, so a batch resent with the
// same ID changes nothing more (the destination does not keep batch IDs: the same content is
// legitimately sent again after a full resync, and must then be applied). Schema changes run in
// their own short transaction before the batch's, one at a time.
//
// Errors. Lost connections, timeouts, serialization failures, deadlocks, too many connections
// and a server starting or shutting down (SQLSTATE 40001, 40P01, 53xxx, 57P0x, 08xxx) are
// retryable (destination.RetryableError), and so is a table or column dropped while cdp wrote
// to it (the next attempt reads the table again and adds what is missing). When PostgreSQL refuses a value (SQLSTATE class 22:
// too long for a varchar(n), out of range for a numeric(p,s); class 23: NOT NULL, CHECK,
// UNIQUE, foreign keys) the batch's transaction is rolled back: a batch of one row rejects that
// row with PostgreSQL's message, a larger batch fails the Write with a non-retryable error, so
// the sync engine splits it until the bad rows are alone. A cancelled context ends a Write
// promptly with an error wrapping context.Canceled. Every other error says what to do: which
// GRANT is missing, which host:port could not be reached (never the password), that the key
// column needs a unique index.
package postgres
