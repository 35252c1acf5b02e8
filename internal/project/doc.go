// Package project reads a cdp project's files into plain data: SQL models, dbt-style property
// files (version: 2 models:, sources:, seeds: with columns, tests, configs and versions), CSV
// seeds, macro files, singular tests, {% docs %} blocks and dbt_project.yml (paths, vars and
// the per-folder configs under models: and seeds:).
//
// Nothing is rendered here: SQL, macros and descriptions are kept as written, Jinja included,
// for the compile step. What can be checked without rendering is checked, and every problem is
// returned at once as config.Errors with file:line and a fix: duplicate model names, property
// entries with no SQL file, unsupported materializations, misspelled keys such as `colums`.
// Unknown keys are otherwise tolerated, since dbt files carry many that cdp does not read.
//
// The package knows nothing of execution: it never opens a warehouse or runs a model.
package project
