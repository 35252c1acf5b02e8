package run

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/project"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// inputSet is the relations a node's data is computed from.
type inputSet struct {
	relations []string // schema.name, sorted
	unknown   string   // a parent that could not be resolved; the node always rebuilds
}

// inputsOf returns the relations whose data a node reads: its table, incremental and seed
// parents and its sources; for an ephemeral parent, that parent's own inputs (it is inlined);
// for a view parent, the view itself (its definition) and the view's inputs, because reading a
// view reads what is under it, and a view is not rebuilt (so its version does not move) when
// only its inputs' data changes.
func (e *execution) inputsOf(n *compile.Node) inputSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inputsLocked(n, map[string]bool{})
}

func (e *execution) inputsLocked(n *compile.Node, visiting map[string]bool) inputSet {
	if s, ok := e.inputs[n.ID]; ok {
		return s
	}
	if visiting[n.ID] {
		return inputSet{unknown: n.ID + " (cycle)"}
	}
	visiting[n.ID] = true
	set := map[string]bool{}
	var unknown string
	for _, p := range n.DependsOn {
		pn := e.nodes[p]
		if pn == nil {
			if unknown == "" {
				unknown = p
			}
			continue
		}
		through := isEphemeral(pn) || (pn.Kind == "model" && materialized(pn) == "view")
		if !isEphemeral(pn) {
			if pn.Relation.Name == "" {
				if unknown == "" {
					unknown = p
				}
				continue
			}
			set[pn.Relation.String()] = true
		}
		if through {
			sub := e.inputsLocked(pn, visiting)
			for _, r := range sub.relations {
				set[r] = true
			}
			if unknown == "" {
				unknown = sub.unknown
			}
		}
	}
	for _, s := range n.Sources {
		set[e.sourceRelation(s).String()] = true
	}
	out := inputSet{relations: slices.Sorted(maps.Keys(set)), unknown: unknown}
	e.inputs[n.ID] = out
	delete(visiting, n.ID)
	return out
}

func (e *execution) sourceRelation(id string) warehouse.Relation {
	if rel, ok := e.r.Sources[id]; ok {
		return rel
	}
	schema, name, _ := strings.Cut(id, ".")
	return warehouse.Relation{Schema: schema, Name: name}
}

// SourceRelations maps each source table's ID to the relation it reads, for Runner.Sources.
func SourceRelations(tables []*project.SourceTable) map[string]warehouse.Relation {
	out := make(map[string]warehouse.Relation, len(tables))
	for _, t := range tables {
		schema, name := t.Schema, t.Identifier
		if schema == "" {
			schema = t.Source
		}
		if name == "" {
			name = t.Name
		}
		out[t.ID] = warehouse.Relation{Schema: schema, Name: name}
	}
	return out
}

// currentVersions returns the data version of each input now.
func (e *execution) currentVersions(in inputSet) map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(in.relations))
	for _, r := range in.relations {
		out[r] = e.versions[r]
	}
	return out
}

// decide says whether a model or seed must be rebuilt, and why (or why not).
//
// A node is rebuilt when --full-refresh is set, when its relation does not exist (or is the
// wrong kind), when it was never built by cdp or was built into another relation, when its
// fingerprint changed, or (tables, incremental models) when it reads the clock or the data
// version of any input differs from the one recorded at its last build. An input with no data version at all was
// never loaded or built by cdp, so cdp cannot tell whether it changed: the node rebuilds.
//
// Views are rebuilt on the first four only: a view stores no data, so it is current whatever
// its inputs hold. Its children see through it (inputsOf), so they still rebuild when the data
// under the view changes.
func (e *execution) decide(n *compile.Node, fingerprint string, in inputSet, versions map[string]int64) (bool, string) {
	rel := n.Relation
	want := "table"
	if materialized(n) == "view" {
		want = "view"
	}
	if e.r.FullRefresh {
		return true, "full refresh"
	}
	switch kind := e.kind(rel); kind {
	case "":
		return true, "new"
	case want:
	default:
		return true, fmt.Sprintf("%s was a %s", rel, kind)
	}
	st, ok := e.states[n.ID]
	switch {
	case !ok:
		return true, "no previous build recorded"
	case st.Relation != rel.String():
		return true, "last built into " + st.Relation
	case st.Fingerprint != fingerprint:
		return true, "definition changed"
	}
	if want == "view" {
		return false, "definition unchanged"
	}
	if clock := readsClock(n); clock != "" {
		return true, "reads the clock (" + clock + ")"
	}
	if in.unknown != "" {
		return true, "input " + in.unknown + " is not in the project graph"
	}
	var changed []string
	for _, r := range in.relations {
		v := versions[r]
		if v == 0 {
			return true, "input " + r + " has no data version (not loaded by cdp)"
		}
		if old, ok := st.InputVersions[r]; !ok || old != v {
			changed = append(changed, r)
		}
	}
	for r := range st.InputVersions {
		if _, ok := versions[r]; !ok {
			changed = append(changed, r) // an input was removed (the fingerprint would usually say so)
		}
	}
	if len(changed) > 0 {
		slices.Sort(changed)
		return true, "input changed: " + strings.Join(changed, ", ")
	}
	return false, "inputs unchanged"
}
