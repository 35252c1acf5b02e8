// Package cli is the cdp command line: cobra commands built by constructors, each parsing flags
// into an options struct, calling one package function and rendering the result for humans or as
// JSON. Errors map to exit codes in exactly one place (Main): 0 ok, 1 failure, 2 usage.
//
// The package knows no SQL and no warehouse internals.
package cli
