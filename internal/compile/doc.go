// Package compile turns a parsed project into runnable SQL: it renders dbt-style Jinja models
// with gonja (ref, source, config, this, is_incremental, var, env_var, target, doc, project
// macros and {% test %} blocks), resolves each model's dependencies from the calls its render
// makes, orders the DAG and reports cycles, inlines ephemeral models as CTEs, compiles generic
// and singular data tests into queries that return failing rows, fingerprints every node from
// its rendered SQL, config and upstream fingerprints, and writes target/ (compiled SQL and
// manifest.json). BreakingChanges compares two manifests for changes that break the consumers
// of contracted models.
//
// Generic tests are the four built-ins (not_null, unique, accepted_values, relationships), three
// dbt_utils tests many dbt projects use (expression_is_true, unique_combination_of_columns,
// accepted_range), and project macros test_<name> / {% test name(...) %} blocks, which also
// stand in for a package's test of the same name (pkg.name): cdp installs no dbt packages.
//
// It owns rendering, dependencies, fingerprints and target/; it knows nothing of how or where
// SQL runs: the warehouse is only consulted for quoting (warehouse.Dialect).
//
// Rendering follows Jinja's defaults as dbt uses them (no trim_blocks, no lstrip_blocks, one
// trailing newline dropped; {%- -%} trims), with undefined names as errors. Templates are parsed
// once and rendered in parallel. Pass 1 renders every model with the relations their yml
// configs imply, recording ref()/source()/config() calls; a render whose handed-out relations
// turn out final is kept, the others (and is_incremental() renders) are redone in pass 2.
// run_started_at and invocation_id are left out on purpose: a compile of the same inputs always
// gives the same SQL and fingerprints.
package compile
