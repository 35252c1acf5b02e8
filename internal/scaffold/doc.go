// Package scaffold writes the starter project that `cdp init DIR` creates: a cdp.yaml with a
// local DuckDB target and a Segment `events` source, its data contract, a dbt-style sources
// file and the empty folders a project grows into. The files are embedded from template/, so
// what a user gets is exactly what the tests parse.
package scaffold
