// Package destination is the boundary between a sync and the tools it feeds. It owns the
// Destination interface, the types that cross it (Batch, Row, Action, Result, RowResult,
// Outcome, RetryableError, RunInfo), the optional interfaces Starter and Closer, and a Registry
// of destination types that sub-packages add themselves to from init:
//
//	file      CSV or JSON Lines files, written atomically (destination/file)
//	webhook   signed JSON batches POSTed to a URL (destination/webhook)
//	postgres  a PostgreSQL table kept equal to the sync's rows (destination/postgres)
//	hubspot   HubSpot contacts and list memberships (destination/hubspot)
//	meta      Meta Custom Audiences, hashed emails and phones (destination/meta)
//	braze     Braze user attributes through /users/track (destination/braze)
//
// Shared by the destinations: destination/pii (the one normalizer and SHA-256 hasher of
// personal data for ad platforms) and destinationtest (the conformance suite every destination
// passes: destinationtest.Run(t, d, opts)).
//
// The contract, from the sync engine's side:
//
//   - A destination is made from its config, already ${ENV}-expanded:
//     Default.New(type, cfg). Factories validate the config and name every bad field and how
//     to fix it. A configured destination's Spec reports its own limits (a webhook's
//     batch_size); Registry.Spec reports the type's, where BatchSize is the most any
//     destination of the type accepts (10,000 for webhook, whose default is 500).
//   - If it is a Starter, Start(ctx, RunInfo) is called once per run before any Write; if it is
//     a Closer, Close(ctx) once after the last Write whose rows the engine keeps. The file
//     destination only makes its output visible on Close.
//   - Write gets at most Spec.BatchSize rows; at most Spec.Concurrency Writes run at once and at
//     most Spec.RateLimit start per second. Write returns one RowResult per row (OK: commit it
//     to the snapshot; Retryable: send it again; Rejected: store the reason) or an error for
//     the whole batch: a *RetryableError (429, 5xx, timeouts; RetryAfter says how long to
//     wait) is worth resending, anything else is not. A cancelled context ends a Write
//     promptly with an error wrapping context.Canceled, never a RetryableError.
//   - Removes come in mirror and audience modes for rows the model no longer returns, and in
//     every mode for rows whose consent (the sync's consent: purpose) was withdrawn: a
//     destination that cannot delete must still take back what it was sent for the purpose
//     (Braze and HubSpot clear the fields), never ignore or reject such a row.
//   - Batch.ID names the batch's content: the same rows give the same ID. Destinations pass it
//     on as an idempotency key where the other end understands one (webhook) or remember it
//     (file), so a batch resent after a lost acknowledgement is applied once.
//
// This package knows nothing of warehouses, SQL, models or how the engine plans a sync: a
// destination sees rows, never where they came from.
package destination
