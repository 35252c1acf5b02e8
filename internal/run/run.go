package run

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/dag"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Runner executes compiled nodes on a warehouse.
type Runner struct {
	WH warehouse.Warehouse
	// Threads is how many nodes run at once; 0 means 4.
	Threads int
	// FullRefresh rebuilds every selected model and seed, incremental models from scratch.
	FullRefresh bool
	// Reporter, when set, follows the run node by node.
	Reporter Reporter

	// Nodes is every compiled node of the project by ID, selected or not. It resolves the
	// relations of parents outside the selection and the inputs of ephemeral and view parents,
	// which the skip decision needs; a node whose inputs cannot be resolved is always rebuilt.
	// Nil means the selected nodes only.
	Nodes map[string]*compile.Node
	// Sources maps a source ID ("raw.events") to its table. IDs not in it resolve to schema
	// and name split at the first dot, which is right unless the source sets schema or
	// identifier (see SourceRelations).
	Sources map[string]warehouse.Relation
	// Dir is the project directory; relative seed paths are read from it.
	Dir string
	// RunID names the run in the run log; empty means a new random ID.
	RunID string
}

// Run executes nodes (the selection, in topological order) and returns what happened to each.
// parents maps a node ID to the IDs it must wait for (as from dag.Graph.Subgraph); nil is
// fine: every node also waits for its DependsOn, directly or through nodes outside the
// selection. Run adds the edges `cdp build` needs: a node that reads a tested model (or seed,
// or source) also waits for that test, so a failing error-severity test skips the models
// downstream of what it tests.
//
// A node that fails does not stop the run: its descendants are skipped and everything else
// runs. The error is only for a run that could not start (state tables unreadable), a run log
// that could not be written, or a cancelled ctx; node failures are in the Summary.
func (r *Runner) Run(ctx context.Context, nodes []*compile.Node, parents map[string][]string) (*Summary, error) {
	start := time.Now()
	e, err := r.prepare(ctx, nodes)
	if err != nil {
		return nil, err
	}
	g := e.graph(nodes, parents)

	// Number the reported nodes; ephemeral models run nothing and are not reported.
	total := 0
	for _, n := range nodes {
		if !isEphemeral(n) {
			total++
		}
	}
	results := make([]Result, len(nodes))
	pos := make(map[string]int, len(nodes))
	order := make([]string, len(nodes))
	idx := 0
	for i, n := range nodes {
		pos[n.ID], order[i] = i, n.ID
		results[i] = Result{ID: n.ID, Kind: n.Kind, Materialized: materialized(n), Total: total}
		if n.Relation.Name != "" && !isEphemeral(n) {
			results[i].Relation = n.Relation.String()
		}
		if !isEphemeral(n) {
			idx++
			results[i].Index = idx
		}
	}
	// NodeStarted comes from the walk's workers, NodeDone from its own goroutine.
	var repMu sync.Mutex
	report := func(n *compile.Node, started bool, res Result) {
		if r.Reporter == nil || isEphemeral(n) {
			return
		}
		repMu.Lock()
		defer repMu.Unlock()
		if started {
			r.Reporter.NodeStarted(res)
		} else {
			r.Reporter.NodeDone(res)
		}
	}
	startedAt := make([]time.Time, len(nodes))

	threads := r.Threads
	if threads <= 0 {
		threads = 4
	}
	dag.Walk(ctx, g, order, threads, func(ctx context.Context, id string) error {
		i := pos[id]
		n, res := nodes[i], &results[i]
		report(n, true, *res)
		startedAt[i] = time.Now()
		e.execute(ctx, n, res, startedAt[i])
		res.Seconds = time.Since(startedAt[i]).Seconds()
		if res.Status.Failed() {
			return errors.New(res.Error)
		}
		return nil
	}, func(d dag.Result) {
		i := pos[d.ID]
		n, res := nodes[i], &results[i]
		if startedAt[i].IsZero() {
			startedAt[i] = time.Now()
		}
		switch {
		case d.Status == dag.Skipped:
			res.Status = StatusSkippedUpstreamFailed
			res.Message = "skipped: upstream " + e.failedAncestor(d.SkippedBecause) + " failed"
		case res.Status == "": // cancelled before it started, or a panic
			err := d.Err
			if err == nil {
				err = errors.New(d.Status.String())
			}
			if d.Status == dag.Cancelled {
				err = fmt.Errorf("not run: %w", err)
			}
			res.Status, res.Error = StatusError, nodeErr(n, err).Error()
		}
		e.log(n, res, startedAt[i])
		report(n, false, *res)
	})

	sum := &Summary{RunID: e.runID}
	for i, res := range results {
		if isEphemeral(nodes[i]) {
			continue
		}
		sum.Counts.add(res.Status)
		sum.Results = append(sum.Results, res)
	}
	// The run log of nodes not already logged in their own swap transaction. Written even if
	// ctx was cancelled, so an interrupted run still leaves its trace.
	if err := e.flushLog(context.WithoutCancel(ctx)); err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, nil
}

// execution is the state of one run.
type execution struct {
	r     *Runner
	wh    warehouse.Warehouse
	d     warehouse.Dialect
	runID string
	nodes map[string]*compile.Node // selected nodes and Runner.Nodes

	states map[string]state.ModelState // by node ID, as of the run's start

	mu       sync.Mutex
	versions map[string]int64  // relation -> data version, kept current as nodes rebuild
	catalog  map[string]string // lower-case schema.name -> "table" or "view"
	schemas  map[string]bool   // schemas created or found in this run
	logs     []state.RunLogEntry
	inputs   map[string]inputSet // memo of inputsOf

	swapMu sync.Mutex // one swap transaction at a time: no engine write conflicts between them
}

func (r *Runner) prepare(ctx context.Context, nodes []*compile.Node) (*execution, error) {
	if r.WH == nil {
		return nil, errors.New("run: no warehouse")
	}
	if err := state.Ensure(ctx, r.WH); err != nil {
		return nil, err
	}
	if err := state.EnsureRun(ctx, r.WH); err != nil {
		return nil, err
	}
	e := &execution{
		r: r, wh: r.WH, d: r.WH.Dialect(), runID: r.RunID,
		nodes:   make(map[string]*compile.Node, len(r.Nodes)+len(nodes)),
		schemas: map[string]bool{},
		inputs:  map[string]inputSet{},
	}
	if e.runID == "" {
		e.runID = NewRunID(time.Now())
	}
	for id, n := range r.Nodes {
		e.nodes[id] = n
	}
	for _, n := range nodes {
		e.nodes[n.ID] = n
	}
	var err error
	if e.states, err = state.LoadModelStates(ctx, r.WH); err != nil {
		return nil, err
	}
	if e.versions, err = state.DataVersionsAll(ctx, r.WH); err != nil {
		return nil, fmt.Errorf("read data versions: %w", err)
	}
	var schemas []string
	for _, n := range nodes {
		if n.Relation.Name != "" {
			schemas = append(schemas, n.Relation.Schema)
		}
	}
	if e.catalog, err = listRelations(ctx, r.WH, schemas); err != nil {
		return nil, err
	}
	for key := range e.catalog {
		e.schemas[strings.SplitN(key, ".", 2)[0]] = true
	}
	return e, nil
}

// NewRunID returns a run ID that sorts by time: 20240102T030405Z-1a2b3c4d.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// graph is the dependency graph of the run: every known node's DependsOn, the given parents,
// and, for build, an edge from each selected test to each selected node that reads what the
// test is attached to, unless that node is upstream of the test itself (a relationships test
// reads two models; an edge back would be a cycle).
func (e *execution) graph(nodes []*compile.Node, parents map[string][]string) *dag.Graph {
	g := dag.New()
	for _, id := range slices.Sorted(maps.Keys(e.nodes)) {
		g.AddNode(id)
		for _, p := range e.nodes[id].DependsOn {
			g.AddEdge(p, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(parents)) {
		for _, p := range parents[id] {
			g.AddEdge(p, id)
		}
	}
	for _, t := range nodes {
		if t.Kind != "test" || t.TestOf == "" {
			continue
		}
		var upstream []string
		for _, c := range nodes {
			if c.Kind == "test" || !readsTested(c, t.TestOf) {
				continue
			}
			if upstream == nil {
				upstream = g.Ancestors(t.ID, -1)
			}
			if _, found := slices.BinarySearch(upstream, c.ID); !found {
				g.AddEdge(t.ID, c.ID) // t's ancestors stay the same
			}
		}
	}
	return g
}

// readsTested reports whether node c reads the node or source a test is attached to.
func readsTested(c *compile.Node, testOf string) bool {
	if slices.Contains(c.DependsOn, testOf) {
		return true
	}
	src := strings.TrimPrefix(testOf, "source.")
	return slices.Contains(c.Sources, src)
}

// failedAncestor names the node that made another be skipped.
func (e *execution) failedAncestor(id string) string {
	if n := e.nodes[id]; n != nil {
		return displayName(n)
	}
	return id
}

// execute runs one node and fills in res.
func (e *execution) execute(ctx context.Context, n *compile.Node, res *Result, startedAt time.Time) {
	if err := ctx.Err(); err != nil {
		res.Status, res.Error = StatusError, nodeErr(n, err).Error()
		return
	}
	switch {
	case n.Kind == "test":
		e.runTest(ctx, n, res)
	case isEphemeral(n):
		res.Status = StatusSuccess
	case n.Kind == "seed" || n.Kind == "model":
		e.build(ctx, n, res, startedAt)
	default:
		res.Status, res.Error = StatusError, nodeErr(n, fmt.Errorf("unknown node kind %q", n.Kind)).Error()
	}
}

// log queues a node's run log entry, unless its swap transaction already wrote it.
func (e *execution) log(n *compile.Node, res *Result, startedAt time.Time) {
	if isEphemeral(n) || res.logged {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.logs = append(e.logs, e.logEntry(n, res, startedAt))
}

func (e *execution) logEntry(n *compile.Node, res *Result, startedAt time.Time) state.RunLogEntry {
	return state.RunLogEntry{RunID: e.runID, NodeID: n.ID, Kind: n.Kind, Status: string(res.Status),
		Rows: res.Rows, Seconds: res.Seconds, Error: res.Error, StartedAt: startedAt}
}

func (e *execution) flushLog(ctx context.Context) error {
	const batch = 500
	for len(e.logs) > 0 {
		k := min(batch, len(e.logs))
		if err := e.wh.Exec(ctx, state.InsertRunLog(e.d, e.logs[:k]...)); err != nil {
			return fmt.Errorf("write run log: %w", err)
		}
		e.logs = e.logs[k:]
	}
	return nil
}

func materialized(n *compile.Node) string {
	switch n.Kind {
	case "seed":
		return "seed"
	case "test":
		return ""
	}
	if n.Config.Materialized == "" {
		return "view"
	}
	return n.Config.Materialized
}

func isEphemeral(n *compile.Node) bool {
	return n.Kind == "model" && n.Config.Materialized == "ephemeral"
}

// displayName is the node's ID without its kind: "orders", "countries", "not_null_orders_id".
func displayName(n *compile.Node) string {
	if _, rest, ok := strings.Cut(n.ID, "."); ok && n.Kind != "" && strings.HasPrefix(n.ID, n.Kind+".") {
		return rest
	}
	return n.ID
}

// where names the node's file (and line when known).
func where(n *compile.Node) string {
	if n.Pos.File != "" {
		return n.Pos.String()
	}
	switch {
	case n.Model != nil && n.Model.Path != "":
		return n.Model.Path
	case n.Seed != nil && n.Seed.Path != "":
		return n.Seed.Path
	case n.Test != nil && n.Test.Pos.File != "":
		return n.Test.Pos.String()
	}
	return ""
}

// nodeErr wraps err once with the node and its file: `model orders (models/orders.sql): ...`.
func nodeErr(n *compile.Node, err error) error {
	kind := n.Kind
	if kind == "" {
		kind = "node"
	}
	if w := where(n); w != "" {
		return fmt.Errorf("%s %s (%s): %w", kind, displayName(n), w, err)
	}
	return fmt.Errorf("%s %s: %w", kind, displayName(n), err)
}
