package destination

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Retryable:
		return "retryable"
	case Rejected:
		return "rejected"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

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

// OKResult acknowledges all n rows of a batch.
func OKResult(n int) Result {
	return Result{Rows: make([]RowResult, n)} // the zero Outcome is OK
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
	Default  string // the value used when the field is not set, as written in YAML; "" if none
	Example  string // a value to show in docs and in errors that say how to fix the config
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

// RunInfo names the run a destination is about to receive batches for.
type RunInfo struct {
	Sync    string    // the sync's name
	ID      string    // the run's ID, unique among the sync's runs (file names use it)
	Started time.Time // when the run started
}

// Starter is implemented by destinations that want to know the run before its first Write: the
// file destination names its output after the sync and the run, recovers the rows a crashed run
// acknowledged, and writes a file even for a run without changes. The sync engine calls Start
// once per run before any Write, and Close (Closer) once after the last Write it means to keep.
// A destination that is never started learns the sync from its first Batch.
type Starter interface {
	Start(ctx context.Context, run RunInfo) error
}

// FormatValue renders a field value as text, the form used by destinations whose values are
// all strings (CSV cells, HubSpot properties): nil is "", time.Time is RFC 3339 with
// nanoseconds when it has them, floats are written without an exponent, and nested []any /
// map[string]any are JSON.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
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
