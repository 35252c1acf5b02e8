// Package state owns the _cdp schema that cdp keeps inside the warehouse, next to the user's
// data: the load ledger today, and model fingerprints, the run log and sync snapshots as those
// capabilities land. Keeping state in the warehouse means a BigQuery user needs nothing else, and
// that state changes can commit in the same transaction as the data they describe.
//
// The package renders portable SQL through the warehouse Dialect and knows nothing of how loads,
// models or syncs work.
package state
