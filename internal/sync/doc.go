// Package sync sends a model's rows to a destination and keeps the destination in step with the
// model, run after run, sending only what changed.
//
// Plan diffs the model against the sync's snapshot (the _cdp.sync_snapshot_<name> table of rows
// the destination acknowledged, with a digest of their mapped fields) in the warehouse, in SQL:
// adds are keys not in the snapshot, changes are keys whose digest differs, removes are snapshot
// keys the model no longer returns (mirror and audience modes) or whose consent was withdrawn
// (every mode). Rows with a NULL or duplicate key are invalid: counted, sampled, never sent and
// never removed. Only mapped fields count, so a change to an unmapped column sends nothing.
//
// Run applies a plan: it checks the guards (an empty model, too many removes or adds) and then
// streams the planned rows from the warehouse in batches of at most min(batch_size, the
// destination's BatchSize), with up to the destination's Concurrency batches in flight and its
// RateLimit honoured. Retryable failures are retried with exponential backoff and jitter, or
// after the destination's Retry-After; a batch that fails as a whole is split in halves until
// the bad rows are isolated and rejected on their own. Each batch's acknowledged rows are
// committed to the snapshot in one transaction before the batch counts as done, so a crash at
// any moment loses nothing and the next run resends at most the batches that were in flight.
// Rejected rows are recorded in _cdp.sync_rejections and, not being in the snapshot, are planned
// again on the next run until they get through. Every run, refused ones included, is recorded in
// _cdp.sync_runs.
//
// Digests are MD5 of the JSON text the warehouse renders for the mapped fields
// (Dialect.JSONObjectText), not of an engine hash function whose values may change between
// versions. Should an engine upgrade render some type differently, the affected rows are sent
// once more as changes; nothing is lost or removed.
//
// The package knows nothing of YAML (syncdef parses definitions), of how a destination talks to
// its service (destination), or of schedules.
package sync
