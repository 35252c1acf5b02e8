package project

import (
	"time"

	"github.com/cdp-dev/cdp/internal/config"
)

// Project is everything under a project's model, seed, macro and test paths, read and
// validated but not rendered: SQL is kept as written (Jinja included).
type Project struct {
	Name   string
	Dir    string          // absolute
	Config *config.Project // cdp.yaml, or synthesized from dbt_project.yml
	Vars   map[string]any  // cdp.yaml vars overlaid by dbt_project.yml vars

	Models  []*Model          // sorted by ID
	Sources []*SourceTable    // sorted by ID
	Seeds   []*Seed           // sorted by Name
	Macros  []*MacroFile      // sorted by Path
	Tests   []*SingularTest   // sorted by Name
	Docs    map[string]string // {% docs name %}...{% enddocs %} blocks by name, trimmed
	Paths   Paths             // the folders the above were read from
	// Warnings are problems that do not stop a run, as dbt reports them: configuration paths
	// in dbt_project.yml that match no model or seed, Python models cdp does not run.
	Warnings config.Errors
}

// Paths are the folders a project's files are read from, slash-separated and relative to Dir.
// dbt_project.yml sets them (model-paths, ...); where it does not, cdp.yaml's apply.
type Paths struct {
	Models []string // default ["models"]
	Seeds  []string // default ["seeds"]
	Macros []string // default ["macros"]; files under <test path>/generic are macros too, as in dbt
	Tests  []string // default ["tests"]
	Docs   []string // docs-paths, default all of the above
}

// Model is one SQL model (one version of it, for versioned models).
type Model struct {
	ID      string // "orders", or "orders.v2" for version 2 of a versioned model
	Name    string // "orders"
	Version string // "" when unversioned, else "1", "2", ...
	// Latest is true for an unversioned model and for the latest_version of a versioned one;
	// ref('orders') without v= resolves to it.
	Latest      bool
	Path        string // file, relative to Dir, slash-separated: "models/staging/stg_orders.sql"
	SQL         string // file contents as written
	Description string
	Columns     []*Column
	Config      Config // dbt_project.yml folder config, overlaid by the yml entry's config
	Tests       []*Test
	Pos         config.Pos // the yml entry (the version's entry when versioned) if any, else Path:1
}

// DefaultAlias is the relation name the model gets when no alias is configured: its name, or
// <name>_v<version> for a version of a versioned model, as in dbt.
func (m *Model) DefaultAlias() string {
	if m.Version == "" {
		return m.Name
	}
	return m.Name + "_v" + m.Version
}

// Column is a documented column of a model or source.
type Column struct {
	Name        string
	Description string
	DataType    string // declared data_type (for contracts); "" if not declared
	Tests       []*Test
	Pos         config.Pos
}

// Config is a model's (or seed's) configuration. Known keys are typed; the rest stays in Extra
// for materializations that read it (identity rules, audience options).
//
// Layers apply in dbt's order: dbt_project.yml from the top folder down, then the property
// file's entry (a version's entry last). Scalars are overridden, Tags accumulate, Meta and
// Extra merge key by key. Materialized is "view" and Enabled true when nothing set them;
// IncrementalStrategy and OnSchemaChange stay "" when not set, since the model's own
// {{ config() }} may still set unique_key. A Jinja expression given for enabled is kept in
// Extra["enabled"] as written. pre_hook and post_hook are stored as "pre-hook" and "post-hook".
type Config struct {
	Materialized        string // view (default), table, incremental, ephemeral, identity, audience; "" for seeds
	Schema              string // custom schema suffix, as dbt's +schema
	Alias               string
	Tags                []string
	Enabled             bool // default true
	UniqueKey           []string
	IncrementalStrategy string // append, merge (default when unique_key is set), delete+insert
	OnSchemaChange      string // ignore (default), fail, append_new_columns
	ContractEnforced    bool
	Meta                map[string]any
	Extra               map[string]any
}

// Test is a generic data test on a model, source or column.
type Test struct {
	Name     string         // not_null, unique, accepted_values, relationships, or a test macro's name
	Column   string         // "" for a model-level test
	Args     map[string]any // values / to / field / ... as written
	Severity string         // "error" (default) or "warn"
	Where    string         // optional filter
	// CustomName is the test's `name:` when given, else "".
	CustomName  string
	Description string
	// Config is the test's other configs (limit, warn_if, error_if, store_failures, tags, ...),
	// from `config:` or given among the arguments as older dbt allowed; nil when none.
	Config map[string]any
	Pos    config.Pos
}

// SourceTable is one table of a dbt-style source.
type SourceTable struct {
	ID            string // "raw.events"
	Source        string // the source's name: "raw"
	Name          string // the table's name: "events"
	Database      string // the source's database: (a BigQuery project); "" when not set
	Schema        string // defaults to Source
	Identifier    string // defaults to Name
	Description   string
	LoadedAtField string
	Freshness     *Freshness
	Columns       []*Column
	Tests         []*Test
	Pos           config.Pos
}

// Freshness is a source table's freshness rule.
type Freshness struct {
	WarnAfter  time.Duration // 0 = none
	ErrorAfter time.Duration // 0 = none
	Filter     string
}

// Seed is a CSV file loaded as a table by `cdp seed`.
type Seed struct {
	Name        string
	Path        string
	Config      Config
	ColumnTypes map[string]string // column_types from config; nil when none
	Description string
	Columns     []*Column
	Tests       []*Test    // seed-level tests; column tests are on Columns
	Pos         config.Pos // the yml entry if any, else Path:1
}

// MacroFile is a file of Jinja macros.
type MacroFile struct {
	Path   string
	Source string
}

// SingularTest is a SQL file under tests/: a query that returns failing rows.
type SingularTest struct {
	Name string
	Path string
	SQL  string
}
