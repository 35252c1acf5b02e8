// Package progress shows how far long work (loads, model runs, syncs) has got: a redrawn bar on a
// terminal, and plain occasional lines when output is piped to a file or CI log, where carriage
// returns would make a mess. It knows nothing about what the work is.
package progress
