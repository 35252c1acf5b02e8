package compile

import (
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Node is one compiled model, seed or test, ready to run.
type Node struct {
	ID       string // "model.orders", "model.orders.v2", "seed.countries", "test.not_null_orders_id"
	Kind     string // model, seed, test
	Model    *project.Model
	Seed     *project.Seed
	Config   project.Config     // after the model's own {{ config(...) }} calls
	Relation warehouse.Relation // where it is built (empty for ephemeral models and tests)
	// SQL is the rendered SELECT, with ephemeral parents inlined as CTEs and, for incremental
	// models, is_incremental() false. IncrementalSQL is the same with is_incremental() true
	// (set only for incremental models). For tests, SQL is the query that returns the failing
	// rows (generic and singular alike). Seeds have no SQL.
	SQL            string
	IncrementalSQL string
	DependsOn      []string // node IDs this node reads (models and seeds), sorted
	Sources        []string // source IDs it reads ("raw.events"), sorted
	// Fingerprint is a hex SHA-256 of the rendered SQL (both of them), the config, the relation,
	// the parents' fingerprints and the source IDs (for seeds: the config, column types and the
	// CSV's bytes): it changes when the model or anything upstream of it changes in a way that
	// alters its output, and only then.
	Fingerprint string
	// Checksum covers only the node itself (rendered SQL, config, materialization): what
	// state:modified compares.
	Checksum string
	// ReadsClock is the clock value or function the model's SQL uses ("current_timestamp",
	// "now()"), "" if none: such a model is rebuilt on every run, since its output moves with
	// time even when its inputs do not.
	ReadsClock string
	Pos        config.Pos
	// Path is the file the node comes from, relative to the project dir: the model's .sql file,
	// the seed's .csv file, the property file of a generic test, the .sql file of a singular test.
	Path string
	// Description is the model's description with {{ doc('...') }} and other Jinja rendered.
	Description string
	// Columns are the model's documented columns, descriptions rendered.
	Columns []Column
	// Test-only fields.
	Test        *project.Test
	TestOf      string // node ID ("model.orders") or "source.<source>.<table>" the test is attached to
	SingularSQL string // for singular tests (files under tests/): the same as SQL
	Severity    string // "error" or "warn": Test.Severity, or a singular test's config(severity=...)
}

// Column is a documented column of a model.
type Column struct {
	Name        string
	DataType    string // declared data_type; "" if not declared
	Description string
}

// Node kinds.
const (
	KindModel = "model"
	KindSeed  = "seed"
	KindTest  = "test"
)
