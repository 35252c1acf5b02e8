package run

// Status is the outcome of one node in a run.
type Status string

const (
	// StatusSuccess: the model or seed was (re)built.
	StatusSuccess Status = "success"
	// StatusSkippedUnchanged: nothing the node is built from changed since its last build.
	StatusSkippedUnchanged Status = "skipped_unchanged"
	// StatusError: the node could not be built or run; its previous data is intact.
	StatusError Status = "error"
	// StatusSkippedUpstreamFailed: a node it depends on failed, so it was not run.
	StatusSkippedUpstreamFailed Status = "skipped_upstream_failed"
	// StatusPass, StatusWarn, StatusFail: a data test found no failing rows, found some with
	// severity warn, or found some with severity error.
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// Failed reports whether the status stops the nodes downstream of it.
func (s Status) Failed() bool {
	return s == StatusError || s == StatusFail || s == StatusSkippedUpstreamFailed
}

// Result is what happened to one node.
type Result struct {
	ID           string  `json:"id"`
	Kind         string  `json:"kind"`                   // model, seed, test
	Materialized string  `json:"materialized,omitempty"` // view, table, incremental, seed
	Relation     string  `json:"relation,omitempty"`     // schema.name
	Status       Status  `json:"status"`
	Rows         int64   `json:"rows"` // rows built, inserted (incremental) or failing (tests)
	Seconds      float64 `json:"seconds"`
	Error        string  `json:"error,omitempty"`
	// Message says why a model was rebuilt or skipped, or shows a test's failing rows.
	Message string `json:"message,omitempty"`
	// Index (1-based) and Total number the node among the run's reported nodes, for
	// "3 of 12" output. Ephemeral models are not reported.
	Index int `json:"index"`
	Total int `json:"total"`

	logged bool // its run log entry was written in its swap transaction
}

// Counts tallies results by status.
type Counts struct {
	Success               int `json:"success"`
	SkippedUnchanged      int `json:"skipped_unchanged"`
	Error                 int `json:"error"`
	SkippedUpstreamFailed int `json:"skipped_upstream_failed"`
	Pass                  int `json:"pass"`
	Warn                  int `json:"warn"`
	Fail                  int `json:"fail"`
}

func (c *Counts) add(s Status) {
	switch s {
	case StatusSuccess:
		c.Success++
	case StatusSkippedUnchanged:
		c.SkippedUnchanged++
	case StatusError:
		c.Error++
	case StatusSkippedUpstreamFailed:
		c.SkippedUpstreamFailed++
	case StatusPass:
		c.Pass++
	case StatusWarn:
		c.Warn++
	case StatusFail:
		c.Fail++
	}
}

// Summary is the outcome of a run.
type Summary struct {
	RunID   string   `json:"run_id"`
	Seconds float64  `json:"seconds"`
	Counts  Counts   `json:"counts"`
	Results []Result `json:"results"` // in the order the nodes were given
}

// OK reports whether every node succeeded, was unchanged, passed or only warned.
func (s *Summary) OK() bool {
	return s.Counts.Error == 0 && s.Counts.Fail == 0 && s.Counts.SkippedUpstreamFailed == 0
}

// Reporter follows a run node by node, for progress output. Calls are serialized: an
// implementation needs no locking of its own.
type Reporter interface {
	// NodeStarted is called when a node starts (not for nodes skipped because of an upstream
	// failure); only ID, Kind, Materialized, Relation, Index and Total are set.
	NodeStarted(r Result)
	NodeDone(r Result)
}
