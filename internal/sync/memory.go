package sync

import (
	"context"
	"fmt"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// embedded is a warehouse engine that runs inside cdp's process (DuckDB), so that its memory is
// cdp's. Left alone it may use most of the machine's RAM, and it holds a query's whole result
// until the result is closed; a sync of millions of rows would then need gigabytes. A sync caps
// its memory while it runs (the engine spills to disk past the cap) and reads the planned rows a
// page at a time.
type embedded interface {
	// CapMemory limits the engine's memory until restore is called.
	CapMemory(ctx context.Context) (restore func(context.Context) error, err error)
	// RowNumber is the expression that numbers the rows of a table from 0, in the order a
	// CREATE TABLE AS ... ORDER BY wrote them.
	RowNumber() string
	// ReleaseMemory returns memory the engine freed to the operating system, so that what a
	// finished query used is not held through the next phase of the run.
	ReleaseMemory()
	// CompactStaged compresses the staged tables (the plan), which the run then reads a page
	// at a time.
	CompactStaged(ctx context.Context) error
}

// releaseMemory returns what an embedded engine freed to the operating system.
func releaseMemory(wh warehouse.Warehouse) {
	if e, ok := wh.(embedded); ok {
		e.ReleaseMemory()
	}
}

// pageRows is how many planned rows a run reads per query from an embedded engine, once the plan
// has more than onePage rows: a page's result stays near 10 MB, and each page costs a scan of
// the model and the snapshot (about 0.3 s at 5M rows on 2 cores). A plan of up to onePage rows
// is read in one query, which fits the cap and keeps small syncs as fast as before.
var pageRows, onePage int64 = 25_000, 200_000

// capMemory caps an embedded warehouse's memory and returns what lifts the cap; other
// warehouses are left alone.
func capMemory(ctx context.Context, wh warehouse.Warehouse) (func() error, error) {
	e, ok := wh.(embedded)
	if !ok {
		return func() error { return nil }, nil
	}
	restore, err := e.CapMemory(ctx)
	if err != nil {
		return nil, fmt.Errorf("cap the warehouse's memory: %w", err)
	}
	return func() error { return restore(context.WithoutCancel(ctx)) }, nil
}
