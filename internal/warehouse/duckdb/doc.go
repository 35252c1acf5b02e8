// Package duckdb is the embedded DuckDB engine: the default warehouse, one file on disk.
//
// DuckDB allows one writing process per file, so Open takes an advisory lock on a sidecar
// "<file>.lock" that records the holder's pid and command. A second cdp process gets an error
// naming the holder instead of DuckDB's raw IO error, and a killed holder releases the lock with
// its process (flock), so there is never a stale lock to clean up.
//
// Files are staged with the Appender (columnar bulk append) for text formats, because the loader
// needs every line's number and original bytes for quarantine, which DuckDB's own readers do not
// expose; Parquet is staged with read_parquet.
package duckdb
