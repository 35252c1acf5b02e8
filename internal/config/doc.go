// Package config parses and validates a cdp project's configuration: cdp.yaml (name, warehouse
// targets, vars, paths, loadable sources, scheduled pipelines), the loadable sources declared
// dbt-style under `meta.cdp` in models/*.yml, and the data contracts those sources point to.
//
// Config is plain data. Parse reads files from an fs.FS into a Project, then Validate checks the
// cross-field rules; every problem is reported at once, each with file:line and how to fix it,
// so a user fixes a broken project in one pass. ${VAR} references are expanded while parsing,
// which keeps secrets out of the YAML.
//
// The package knows nothing of execution: it never opens a warehouse, reads data files or runs
// models. Other packages take a *Project and act on it.
package config
