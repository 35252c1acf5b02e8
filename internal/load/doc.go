// Package load puts raw files (Segment-spec NDJSON events, other NDJSON, CSV, Parquet; gzip'd or
// not) into a source's raw table, enforcing the source's data contract.
//
// Each file is staged with the engine's bulk path, classified in one set-based SQL pass (parse,
// contract checks, Segment rules, deduplication by messageId), and then committed in a single
// transaction together with its quarantined rows and its load-ledger entry. So a file is either
// wholly loaded or not at all, a file loaded before (same checksum) is skipped, and a load killed
// at any moment is simply re-run. Rows that break the contract go to SOURCE_quarantine with the
// reason, file, line and original text; they never abort a load and are never dropped.
//
// The package knows nothing of models or syncs.
package load
