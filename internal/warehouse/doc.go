// Package warehouse defines what cdp needs from a SQL engine: the Warehouse interface (execute,
// stream query results, bulk-load a file, describe a relation) and the Dialect that renders the SQL
// that differs between engines. Engines live in sub-packages (duckdb, bigquery) and register
// themselves with Register; Open picks one by the target's type. The warehousetest sub-package is
// the conformance suite every engine must pass.
//
// This package knows nothing of models, syncs or the project layout.
package warehouse
