package destination

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Action is what a change asks the destination to do with one row.
type Action string

const (
	Add    Action = "add"    // a row the destination has not acknowledged yet
	Change Action = "change" // a row whose mapped fields changed since the last acknowledgement
	Remove Action = "remove" // a row the model no longer returns (mirror and audience modes)
)

// Row is one record to send: its primary key, the action and the mapped fields (destination
// field name -> value; values are string, int64, float64, bool, time.Time, nil, or nested
// []any / map[string]any from JSON columns).
type Row struct {
	Key    string
	Action Action
	Fields map[string]any
}

// Batch is a set of rows sent in one call, at most Spec.BatchSize rows.
type Batch struct {
	Sync string // the sync's name, for idempotency keys and logs
	// ID identifies the batch's content: the same rows give the same ID, so a destination can
	// use it as an idempotency key and a resent batch is not applied twice.
	ID   string
	Mode string // mirror, upsert, insert, audience
	Rows []Row
}

// Outcome of one row.
type Outcome int

const (
	OK        Outcome = iota // acknowledged: commit to the snapshot
	Retryable                // not applied now (rate limit, timeout); send again
	Rejected                 // the destination refused this row; store the reason, retry next run
)

// RowResult is the outcome of one row, by index into Batch.Rows.
type RowResult struct {
	Outcome Outcome
	Reason  string // for Retryable and Rejected
}

// Result is the per-row outcome of a Write. A Write that returns an error applies to the whole
// batch; the caller retries it (RetryAfter, when set, says how long to wait) and, when it keeps
// failing with rejections, splits it to isolate the bad rows.
type Result struct {
	Rows []RowResult
}

// RetryableError marks an error worth retrying (HTTP 429/5xx, timeouts), with the wait the
// destination asked for (Retry-After), zero if none.
type RetryableError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *RetryableError) Error() string { return e.Err.Error() }
func (e *RetryableError) Unwrap() error { return e.Err }

// Field describes one configuration field of a destination.
type Field struct {
	Name     string
	Required bool
	Secret   bool // must come from ${ENV}, never literally in YAML
	Doc      string
}

// Spec is what a destination declares about itself.
type Spec struct {
	Name        string
	Doc         string
	Fields      []Field
	Modes       []string      // supported sync modes
	BatchSize   int           // most rows per Write
	Concurrency int           // most Writes in flight at once
	RateLimit   float64       // most Writes per second; 0 = unlimited
	Timeout     time.Duration // per Write
}

// Destination receives batches and reports per-row outcomes.
type Destination interface {
	Spec() Spec
	Write(ctx context.Context, b Batch) (Result, error)
}

// Closer is implemented by destinations that hold resources (connections, open files) or that
// finish their work at the end of a run (a file destination renames its output into place).
type Closer interface {
	Close(ctx context.Context) error
}

// Factory makes a destination from its config (already ${ENV}-expanded).
type Factory func(cfg map[string]any) (Destination, error)

// Registry holds destination factories by type name. Tests use their own registry with only the
// destinations they need.
type Registry struct {
	mu        sync.RWMutex
	factories map[string]registered
}

type registered struct {
	spec    Spec
	factory Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{factories: map[string]registered{}} }

// Default is the registry destinations add themselves to from init.
var Default = NewRegistry()

// Register adds a destination type.
func (r *Registry) Register(spec Spec, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.factories[spec.Name]; dup {
		panic("destination registered twice: " + spec.Name)
	}
	r.factories[spec.Name] = registered{spec, f}
}

// New makes a destination of type name.
func (r *Registry) New(name string, cfg map[string]any) (Destination, error) {
	r.mu.RLock()
	reg, ok := r.factories[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown destination type %q (available: %v)", name, r.Names())
	}
	return reg.factory(cfg)
}

// Spec returns the spec of a registered type.
func (r *Registry) Spec(name string) (Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.factories[name]
	return reg.spec, ok
}

// Names lists the registered types.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.factories))
	for n := range r.factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
