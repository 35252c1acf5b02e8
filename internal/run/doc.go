// Package run executes compiled nodes (models, seeds, data tests) on a warehouse: it
// materializes models, loads seeds, runs tests, skips what did not change, and keeps the run
// log. It also checks source freshness.
//
// # Materializations
//
//   - view: CREATE OR REPLACE VIEW, in one transaction with its state.
//   - table: the SELECT is built into <name>__cdp_tmp next to the target; the contract is
//     checked there; then one transaction drops the old relation, renames the tmp table into
//     place and records the model state, a data version bump and the run log entry. A build
//     that fails, or a process killed during it, leaves the previous table readable and
//     complete; readers never see a half-built table.
//   - incremental: the first build and --full-refresh take the table path. Later builds put the
//     IncrementalSQL rows (is_incremental() true, so only new rows) into the tmp table and apply
//     them in one transaction: append inserts them; merge and delete+insert first delete the
//     target rows whose unique_key matches a new row (portable DELETE ... WHERE EXISTS rather
//     than an engine's MERGE; new rows sharing a key are all inserted). A NULL in a unique_key
//     column of the new rows is an error, checked before anything is written.
//     on_schema_change: ignore (insert the columns the target has; target columns the new rows
//     lack stay NULL, where dbt would fail), fail (error listing the new and removed columns),
//     append_new_columns (ALTER TABLE ADD COLUMN, then insert).
//   - ephemeral: nothing runs; the compiler inlines it into its children. Not reported.
//   - seed: read_csv (DuckDB) into the tmp table, then the table swap.
//
// A model whose contract is enforced must produce exactly its declared columns with compatible
// types (see sameType), or it fails with the list of differences and its old data stays.
//
// # What is skipped
//
// Every relation cdp builds or loads has a data version in _cdp.data_versions, bumped in the
// transaction that changes its data. _cdp.model_state records, per node, the fingerprint it was
// last built from and its inputs' data versions at the time. A table, incremental model or
// seed is rebuilt only when --full-refresh is set, its relation is missing (or of the wrong
// kind), its fingerprint changed, it reads the clock, or an input's data version moved;
// otherwise it is skipped_unchanged and, since its own version does not move, so is everything
// downstream. A model reads the clock when its SQL uses current_date, current_timestamp, now()
// and the like (compile.ReadsClock), or when its custom materialization says so
// (RegisterClockCheck: audience rules with `within`): "the last 30 days" moves with time alone,
// so skipping such a model for unchanged inputs would leave it stale. The
// decision costs three queries per run (model state, data versions, the catalog), none per
// model.
//
// Inputs are the relations of a node's parents and sources. An ephemeral parent contributes
// its own inputs. A view parent contributes itself and its inputs: views are rebuilt only when
// their fingerprint changes (a view holds no data, so it is current whatever its inputs hold),
// which means the view's own version does not move when the data under it does, and a table
// reading the view must look through it. An input with no data version (a table not loaded by
// cdp) cannot be tracked, so its readers rebuild on every run.
//
// # Order, tests and build
//
// Nodes run in parallel (Runner.Threads) with dag.Walk: a node starts when its parents are
// done and is skipped_upstream_failed when one failed; the rest of the run goes on. A test's
// SQL selects failing rows: none is pass; some is warn (severity warn: the run goes on) or fail
// (severity error). Run makes every selected model that reads what a test is attached to wait
// for the test, so in `cdp build` a failing error-severity test skips the models downstream of
// the model it tests.
//
// # State and portability
//
// All writes (model state, data versions, run log) are portable SQL rendered through the
// warehouse Dialect: a delete and an insert, never an engine's upsert. Run log entries of
// rebuilt nodes commit in their swap transaction; the others are written in one INSERT at the
// end of the run. Two pieces are DuckDB-flavoured and isolated for the BigQuery engine:
// listRelations (information_schema.tables with current_database()) and seedSelect
// (read_csv).
//
// This package knows nothing of destinations, syncs or how SQL is compiled.
package run
