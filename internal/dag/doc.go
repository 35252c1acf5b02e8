// Package dag is the dependency graph the model engine runs on: nodes are opaque string IDs
// ("model.orders", "seed.countries", "test.not_null_orders_id") and an edge parent -> child
// means the child depends on the parent.
//
// It owns four things:
//
//   - the graph itself (Graph, with sorted, deterministic answers from every method);
//   - cycle detection (Cycle, and the *CycleError that Sort and Select return, whose message
//     reads "dependency cycle: a -> b -> a");
//   - topological order (Sort: ties broken by ID) and dbt's node selection syntax (Select:
//     "+orders+", "2+orders", "orders+1", "@orders", "tag:nightly,+fct" with space for union and
//     comma for intersection, plus excludes), with selector methods left to a Resolver;
//   - a bounded parallel walk (Walk) that runs a function on each node once its parents have
//     succeeded, skips the descendants of failures (unless the failure is soft: ErrSoftFail),
//     and stops starting work when its context is cancelled.
//
// The package knows nothing of SQL, models, tags or files: what a name, "tag:x" or
// "state:modified" means is for the caller's Resolver to say, and what running a node means is
// for the caller's function to do.
package dag
