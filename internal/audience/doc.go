// Package audience provides the `audience` materialization: audiences written as YAML rules
// (or as plain SQL), compiled to one portable SELECT, built into a table of members, with every
// entry and exit kept in a membership history.
//
// # An audience model
//
// An audience is a model with materialized: audience. Its SQL is the population, one row per
// profile with a profile_id column; its rules, when it has any, are the audience: key of its
// config, given in its property file as dbt configs are:
//
//	-- models/audiences/high_value_customers.sql
//	{{ config(materialized='audience') }}
//	-- depends_on: {{ ref('profile_events') }}
//	select * from {{ ref('profiles') }}
//
//	# models/audiences/audiences.yml
//	version: 2
//	models:
//	  - name: high_value_customers
//	    config:
//	      audience:
//	        include: [email, total_spend]       # columns kept besides profile_id; default: all
//	        events: profile_events              # model event conditions read (the default)
//	        as_of: 2026-11-01                   # optional: evaluate `within` at this time
//	        where:
//	          all:
//	            - {column: total_spend, op: ">=", value: 100}
//	            - {trait: plan, op: in, value: [pro, enterprise]}
//	            - {event: Order Completed, count: {op: ">=", value: 2}, within: 30d}
//	            - {event: Order Completed, sum: revenue, op: ">=", value: 200, within: 30d}
//	            - not: {audience: churned}
//	            - any:
//	                - {column: last_order_at, within: 7d}
//	                - {event: [Product Added, Checkout Started], within: 7d,
//	                   where: {property: currency, op: "=", value: EUR}}
//
// An audience without audience: rules is its SQL as written: the SELECT returns the members
// (profile_id and any columns), and the materialization adds the history.
//
// Conditions:
//   - all: [...], any: [...], not: {...} combine conditions.
//   - {column: c, op: o, value: v}: a column of the population. Values are checked against the
//     column's type: numbers for numeric columns, quoted text for text, true/false for
//     booleans, "2026-11-01" for timestamps. {column: c, within: 30d} keeps timestamps no older
//     than 30 days before the run.
//   - {trait: path, op: o, value: v}: a key (dotted for nested: consent.marketing) of the
//     population's traits JSON column, compared as the value's type.
//   - {event: name | [names], within: d, where: {...}}: the profile has such an event; where
//     tests the event's properties with {property: path, op, value} leaves (and all/any/not).
//     With count: {op, value} it compares how many there are; with sum|avg|min|max: property
//     and op, value beside it, it compares that aggregate of a numeric property (a sum over no
//     events is 0; the others are missing, which matches nothing).
//   - {audience: name}: the profile is a member of another audience model.
//
// Operators: = != > >= < <= in not_in is_null not_null contains. A missing value (NULL: the
// column is null, the trait or property absent) matches only !=, not_in and is_null, and every
// condition is TRUE or FALSE, so not: is the exact complement. within: takes a whole number and
// m, h, d or w. Events after the run's time (or as_of) are ignored.
//
// Problems are reported all at once, each at its line in the property file when the file is
// readable from the working directory (otherwise at the model's entry), with the fix: unknown
// keys with the closest known one, operators, values of the wrong type for their column,
// unknown columns with the closest column of the population.
//
// # What the rules read
//
// Rules read the population (the model's SQL), the events model (profile_id, event, timestamp,
// properties JSON; profile_events by default) and other audiences. The compiler only sees refs
// in SQL, so each model the rules read besides the population must be a dependency of the
// audience: add `-- depends_on: {{ ref('profile_events') }}` (or ref('churned')) to its .sql
// file, which is how dbt declares dependencies it cannot see. The build fails with that fix
// otherwise, so the audience never reads a model before it is built. The relation read is the
// one _cdp.model_state records for the model.
//
// # Checking without building
//
// Validate does for `cdp compile` what the materialization does for a build, in the compile
// step's empty scratch database: it parses the rules, compiles them against the population's
// columns (so a misspelled column or a value of the wrong type is reported before any data is
// touched), and creates the audience's relation (a view of the compiled SELECT) and the
// history table there, so that tests and models reading the audience are checked too.
//
// # Building
//
// The compiled SELECT is built into <audience>__cdp_new; profile_id must be present and unique.
// Then, under one transaction with the model's state, data version and run log (run.Build's
// Commit): the open history rows of profiles no longer members get exited_at = now, members
// without an open row get a new one (entered_at = now, exited_at NULL), and the new table
// replaces the audience's. A profile that leaves and comes back has two rows. The history,
// audience_membership_history(audience, profile_id, entered_at, exited_at), is one table in the
// audience's schema shared by all its audiences, keyed by model name; profile_id is stored as
// text. --full-refresh rebuilds the members and keeps the history.
//
// An audience is rebuilt, like any table, when its SQL, config or inputs change, and on every
// run when it has a `within` condition without as_of: `within` counts back from the time of
// the build, so members leave the window as time passes even when no input changes.
//
// The SQL is portable: JSON, casts and quoting go through warehouse.Dialect, `within` becomes
// a timestamp literal computed in Go, and the history is kept with UPDATE and INSERT ... WHERE
// NOT EXISTS rather than an engine's MERGE.
//
// This package knows nothing of destinations or syncs: they read the audience table and its
// history.
package audience
