// Package generate writes deterministic synthetic event data for a fictional online shop, in the
// format Segment delivers it: NDJSON files with one Segment-spec message (track, identify, page,
// screen, group, alias) per line. It backs `cdp generate events`, the README demo, the tests and
// the benchmarks.
//
// Each simulated person has one to four browsers (an anonymousId each), maybe the mobile app
// (context.device.id and its own anonymousId), browses anonymously, views and adds products, and
// a share of them buy (a long tail buys many times). Logins are identify calls with a userId and
// traits; some persons never log in, some only leave an email (newsletter, guest checkout), some
// send alias calls, consent traits (and withdraw it later), group calls and Signed Up / Email
// Subscribed events. The data carries the noise real pipelines see: browsers shared by two
// persons, placeholder identifiers ("anonymous", userId "null"/"undefined"/"0"/all-zero UUID,
// test@test.com), emails in mixed case with spaces, phones in several formats, missing optional
// fields, device clock skew and lines out of order. Optionally it adds deliberately bad lines
// (Options.BadRate) and client retries with the same messageId (Options.DuplicateRate).
//
// The truth is recorded: truth.csv (message_id,person_id) maps the messageId of every good event
// to the person who caused it, so identity resolution can be scored. Bad lines are not in it;
// duplicates share their original's row.
//
// Output is deterministic: the same Options produce byte-identical files, whatever the number of
// CPUs. Every person draws from its own PCG stream seeded from (Seed, person index), persons are
// generated in fixed chunks of 1000 by parallel workers, and chunks are written in order. Within
// a chunk, lines are ordered by receivedAt, so persons interleave. Files are written under
// temporary names and renamed when complete; truth.csv is renamed last.
package generate
