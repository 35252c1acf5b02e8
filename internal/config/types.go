package config

import "fmt"

// Pos is a place in a project file, for error messages.
type Pos struct {
	File string // path relative to the project dir, e.g. "cdp.yaml"
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Project is a parsed cdp project: cdp.yaml plus the loadable sources declared in models/*.yml.
type Project struct {
	Dir           string // absolute project directory
	Name          string
	DefaultTarget string // target used when --target is not given
	// DefaultTargetPos is where `target:` is set in cdp.yaml; zero when it defaulted to "dev".
	DefaultTargetPos Pos
	Targets          map[string]*Target // by name
	Vars             map[string]any
	Sources          map[string]*Source // loadable sources by name (`cdp load NAME`)
	ModelPaths       []string           // default ["models"]
	SeedPaths        []string           // default ["seeds"]
	MacroPaths       []string           // default ["macros"]
	SyncPaths        []string           // default ["syncs"]
	Pipelines        []*Pipeline        // in file order; cdp schedule runs each on its schedule
}

// Target is one named warehouse connection.
type Target struct {
	Name string
	Type string // "duckdb" | "bigquery"
	// duckdb: database file, absolute (resolved against the project dir); default .cdp/warehouse.duckdb
	Path    string
	Threads int // default 4
	// MemoryLimit is DuckDB's memory_limit ("4GB"); "" keeps DuckDB's default (80% of RAM) and,
	// during a sync, cdp's cap.
	MemoryLimit string
	// bigquery
	Project  string
	Dataset  string
	Location string // default "US"
	Pos      Pos
}

// Source is a loadable raw source: `cdp load NAME FILES...` puts files into Schema.Name.
type Source struct {
	Name     string
	Schema   string // default "raw"
	Format   string // "segment" (Segment-spec NDJSON events), "ndjson", "csv", "parquet"
	Contract *Contract
	Pos      Pos
}

// Contract is the data contract of a source: what a row must look like to be loaded. Rows that
// break it are quarantined with the reason.
type Contract struct {
	Pos Pos // where the contract is declared (file:line)
	// Fields are top-level (or dotted JSON path, e.g. "context.device.id") fields with their rules.
	// For csv/parquet sources they are the columns of the raw table, in order.
	Fields []Field
	// AllowedTypes restricts Segment `type` values (default: track identify page screen group alias).
	AllowedTypes []string
	// Events is the tracking plan: per `event` name of track calls, the rules for its properties.
	Events []EventRule
	// AllowUnplannedEvents: when false and Events is not empty, a track call whose event is not in
	// the plan is quarantined. Default true.
	AllowUnplannedEvents bool
}

// Field is a rule for one field.
type Field struct {
	Name     string   // JSON key or dotted path; column name for csv/parquet
	Type     string   // "string", "integer", "number", "boolean", "timestamp", "object", "array", "any" (default)
	Required bool     // must be present and not null (and not "" for strings)
	Allowed  []string // when set, the value (as text) must be one of these
	// Description documents the field for people; it has no effect on loading.
	Description string
	Pos         Pos
}

// EventRule is the tracking plan for one track event name.
type EventRule struct {
	Name       string
	Properties []Field // rules on properties.<name>
	// Description documents the event for people; it has no effect on loading.
	Description string
	Pos         Pos
}
