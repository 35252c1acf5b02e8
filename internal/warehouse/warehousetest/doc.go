// Package warehousetest is the conformance suite every warehouse engine must pass: one set of
// subtests that pins the contract of warehouse.Warehouse and warehouse.Dialect, so the SQL that
// the load, run, state and sync packages generate behaves the same on DuckDB and on BigQuery.
//
// An engine's tests call it with a function that opens a fresh, empty warehouse and arranges
// for it to be closed when the test ends:
//
//	func TestConformance(t *testing.T) {
//		warehousetest.Run(t, func(t *testing.T) warehouse.Warehouse {
//			w, err := duckdb.Open(context.Background(), warehouse.Config{Type: "duckdb"})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { w.Close() })
//			return w
//		})
//	}
//
// Each subtest opens its own warehouse. The suite uses only portable SQL (CREATE TABLE, INSERT
// ... VALUES, SELECT with UNION ALL, CROSS JOIN, ORDER BY, CAST, ? placeholders) and renders
// everything that differs between engines through the warehouse's Dialect: identifiers,
// literals, types, casts, JSON access and hashing. DML is the only thing run inside ExecAtomic,
// because BigQuery transactions do not allow DDL.
//
// What it pins, beyond the interface comments:
//   - Columns and Rows.Columns report the same type name for the same column, and a column
//     declared with Dialect.Type(p) is reported as exactly Dialect.Type(p), so callers can compare
//     declared and actual types without knowing the engine.
//   - Errors from bad statements name the unknown table or column.
//   - Rows.Close may be called early and twice; cancelling a query's context ends the stream with
//     an error that wraps context.Canceled.
//   - Hash is a hash of the tuple: argument order and boundaries matter.
//   - RegexpContains and RegexpReplace take RE2 patterns as written (backslash classes, groups,
//     (?i)); MD5Hex is lower-case hex.
//   - JSONTypeMany and JSONStringMany elements agree with JSONType and
//     JSONString at the same path (so a JSON null has text NULL); JSONObjectValid, TryCast and
//     JSONExtractMany are selected over columns that mix good and bad rows, where one bad row
//     must not fail the statement.
//   - Progress calls never go backwards or past the file's size.
//
// The Parquet subtest stages testdata/people.parquet (embedded), written by DuckDB with:
//
//	COPY (SELECT * FROM (VALUES (1::BIGINT, 'ada', 1.5::DOUBLE, true), (2, NULL, NULL, NULL),
//	  (3, 'it''s', -2.25, false)) v(id, name, score, active) ORDER BY id) TO 'people.parquet' (FORMAT parquet)
//
// Options adapt the suite to engines whose test doubles cannot do everything at full scale;
// nothing in it turns a check off.
package warehousetest
