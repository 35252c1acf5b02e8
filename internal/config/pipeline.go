package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Pipeline is a named sequence of steps that `cdp schedule` runs on a cron schedule, such as a
// build followed by the syncs of the models it built.
type Pipeline struct {
	Name        string
	Schedule    string // standard 5-field cron expression or @descriptor
	Description string
	Steps       []Step
	Pos         Pos // where the pipeline's name is
}

// Step kinds.
const (
	StepBuild = "build" // seeds, models and tests, as cdp build
	StepRun   = "run"   // models, as cdp run models
	StepTest  = "test"  // data tests, as cdp test
	StepLoad  = "load"  // files into a source, as cdp load
	StepSync  = "sync"  // syncs, as cdp sync run
)

// StepKinds are the kinds of pipeline step, in the order messages list them.
var StepKinds = []string{StepBuild, StepRun, StepTest, StepLoad, StepSync}

// Downstream is the sync step value that means "the syncs of the models that the pipeline's
// earlier build and run steps selected".
const Downstream = "downstream"

// Step is one step of a pipeline.
type Step struct {
	Kind string
	// build, run, test: the --select and --exclude values; none selects everything.
	Select      []string
	Exclude     []string
	FullRefresh bool // build, run
	// load: the source and the files, directories or globs to load into it, relative to the
	// project directory unless absolute.
	Source string
	Paths  []string
	// sync: the syncs by name, or Downstream.
	Syncs      []string
	Downstream bool
	Pos        Pos
}

// String is the step as a command line would read, naming it in logs and errors.
func (s Step) String() string {
	parts := []string{s.Kind}
	switch s.Kind {
	case StepBuild, StepRun, StepTest:
		parts = append(parts, s.Select...)
		for _, e := range s.Exclude {
			parts = append(parts, "--exclude", e)
		}
		if s.FullRefresh {
			parts = append(parts, "--full-refresh")
		}
	case StepLoad:
		parts = append(append(parts, s.Source), s.Paths...)
	case StepSync:
		if s.Downstream {
			parts = append(parts, Downstream)
		} else {
			parts = append(parts, strings.Join(s.Syncs, ", "))
		}
	}
	return strings.Join(parts, " ")
}

var (
	pipelineKeys  = []string{"schedule", "description", "steps"}
	selectKeys    = []string{"select", "exclude", "full_refresh"}
	loadKeys      = []string{"source", "path"}
	pipelineNameR = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// pipelines parses the pipelines: mapping of cdp.yaml, keeping the file's order so that jobs
// due at the same time run in the order they are written.
func (p *parser) pipelines(proj *Project, n *yaml.Node) {
	pairs, _ := p.mapping(projectFile, "pipelines", n, nil)
	for _, kv := range pairs {
		if pl := p.pipeline(kv); pl != nil {
			proj.Pipelines = append(proj.Pipelines, pl)
		}
	}
}

func (p *parser) pipeline(kv pair) *Pipeline {
	const f = projectFile
	where := join("pipelines", kv.key)
	pl := &Pipeline{Name: kv.key, Pos: Pos{File: f, Line: kv.keyNode.Line}}
	if !pipelineNameR.MatchString(pl.Name) {
		// The name is the job's name in cdp schedule's log and --json, next to sync names,
		// so it follows their rule.
		p.errorf(f, kv.keyNode, "pipeline name %q is not valid: use lowercase letters, digits and _, starting with a letter", pl.Name)
	}
	pairs, ok := p.mapping(f, where, kv.val, pipelineKeys)
	if !ok {
		return nil
	}
	var steps *yaml.Node
	for _, e := range pairs {
		at := join(where, e.key)
		switch e.key {
		case "schedule":
			pl.Schedule, _ = p.str(f, at, e.val)
			if pl.Schedule == "" {
				continue
			}
			if _, err := cron.ParseStandard(pl.Schedule); err != nil {
				p.errorf(f, e.val, "%s %q is not a valid cron schedule (%v); use 5 fields, minute hour day-of-month month day-of-week, such as \"0 * * * *\", or @hourly, @daily, @every 30m", at, pl.Schedule, err)
			}
		case "description":
			pl.Description, _ = p.str(f, at, e.val)
		case "steps":
			steps = e.val
			p.steps(pl, at, e.val)
		}
	}
	if pl.Schedule == "" {
		p.errorf(f, kv.keyNode, "pipeline %q has no schedule; add `schedule:` with a cron expression such as \"0 * * * *\" under %s", pl.Name, where)
	}
	if len(pl.Steps) == 0 && (steps == nil || isNull(steps) || (steps.Kind == yaml.SequenceNode && len(steps.Content) == 0)) {
		p.errorf(f, kv.keyNode, "pipeline %q has no steps; add `steps:` with a list such as [build, {sync: downstream}] under %s", pl.Name, where)
	}
	return pl
}

func (p *parser) steps(pl *Pipeline, where string, n *yaml.Node) {
	const f = projectFile
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(f, n, "%s must be a list of steps (- build, - sync: downstream), got %s", where, describe(n))
		return
	}
	selects := false
	for i, item := range n.Content {
		st, ok := p.step(fmt.Sprintf("%s[%d]", where, i), resolve(item))
		if !ok {
			selects = true // it may be a mistyped build: one error for it is enough
			continue
		}
		switch {
		case st.Kind == StepBuild || st.Kind == StepRun:
			selects = true
		case st.Downstream && !selects:
			p.errs.add(st.Pos, "pipeline %q: `sync: downstream` runs the syncs of the models that earlier build or run steps selected, and no step before it does; add a build step before it, or name the syncs", pl.Name)
		}
		pl.Steps = append(pl.Steps, st)
	}
}

// step reads one step: a bare kind (build, run, test) or a one-key mapping from the kind to
// its argument.
func (p *parser) step(where string, n *yaml.Node) (Step, bool) {
	const f = projectFile
	st := Step{Pos: Pos{File: f, Line: n.Line}}
	var arg *yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		st.Kind = n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		st.Kind, arg = n.Content[0].Value, resolve(n.Content[1])
	case n.Kind == yaml.MappingNode && len(n.Content) > 2:
		p.errorf(f, n, "%s has %d keys; a step is one of %s, so put each in its own list item", where, len(n.Content)/2, strings.Join(StepKinds, ", "))
		return st, false
	default:
		p.errorf(f, n, "%s must be a step (build, run, test, or a mapping like `sync: downstream`), got %s", where, describe(n))
		return st, false
	}
	at := join(where, st.Kind)
	switch st.Kind {
	case StepBuild, StepRun, StepTest:
		return st, p.selection(&st, at, arg)
	case StepLoad:
		return st, p.loadStep(&st, at, n, arg)
	case StepSync:
		return st, p.syncStep(&st, at, n, arg)
	}
	msg := fmt.Sprintf("%s: unknown step %q", where, st.Kind)
	if s := suggest(st.Kind, StepKinds); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; use one of " + strings.Join(StepKinds, ", ")
	}
	p.errorf(f, n, "%s", msg)
	return st, false
}

// selection reads the argument of build, run and test: nothing (everything), one selector, a
// list of them, or a mapping with select, exclude and full_refresh.
func (p *parser) selection(st *Step, where string, n *yaml.Node) bool {
	const f = projectFile
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		list, ok := p.selectors(where, n)
		st.Select = list
		return ok
	}
	pairs, ok := p.mapping(f, where, n, selectKeys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		var itemOK bool
		switch kv.key {
		case "select":
			st.Select, itemOK = p.selectors(at, kv.val)
		case "exclude":
			st.Exclude, itemOK = p.selectors(at, kv.val)
		case "full_refresh":
			st.FullRefresh, itemOK = p.bool(f, at, kv.val)
			if itemOK && st.Kind == StepTest {
				p.errorf(f, kv.keyNode, "%s: full_refresh applies to build and run steps; tests build nothing", where)
				itemOK = false
			}
		}
		ok = ok && itemOK
	}
	return ok
}

// selectors reads one selector or a list of them, as repeated --select flags.
func (p *parser) selectors(where string, n *yaml.Node) ([]string, bool) {
	const f = projectFile
	if n.Kind == yaml.SequenceNode {
		list, ok := p.strList(f, where, n)
		for i, s := range list {
			if strings.TrimSpace(s) == "" {
				p.errorf(f, n.Content[i], "%s has an empty selector; remove it", where)
				ok = false
			}
		}
		return list, ok
	}
	s, ok := p.str(f, where, n)
	if !ok || s == "" {
		return nil, ok
	}
	return []string{s}, true
}

func (p *parser) loadStep(st *Step, where string, step, n *yaml.Node) bool {
	const f = projectFile
	if isNull(n) || n.Kind != yaml.MappingNode {
		got := "nothing"
		if !isNull(n) {
			got = describe(n)
		}
		p.errorf(f, step, "%s needs the source and the files to load, as `load: {source: events, path: incoming/}`; got %s", where, got)
		return false
	}
	pairs, ok := p.mapping(f, where, n, loadKeys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		switch kv.key {
		case "source":
			st.Source, _ = p.str(f, at, kv.val)
		case "path":
			if kv.val.Kind == yaml.SequenceNode {
				st.Paths, _ = p.strList(f, at, kv.val)
			} else if s, sOK := p.str(f, at, kv.val); sOK && s != "" {
				st.Paths = []string{s}
			}
		}
	}
	if st.Source == "" {
		p.errorf(f, step, "%s has no source; add `source:` with a source of cdp.yaml or models/*.yml, such as events", where)
		ok = false
	}
	if len(st.Paths) == 0 {
		p.errorf(f, step, "%s has no path; add `path:` with the files, directory or glob to load, such as incoming/", where)
		ok = false
	}
	return ok
}

func (p *parser) syncStep(st *Step, where string, step, n *yaml.Node) bool {
	const f = projectFile
	if isNull(n) {
		p.errorf(f, step, "%s needs the syncs to run: `sync: [name, ...]`, or `sync: downstream` for the syncs of the models that earlier steps built", where)
		return false
	}
	if n.Kind == yaml.SequenceNode {
		// A list always names syncs, so a sync called "downstream" can still be listed.
		list, ok := p.strList(f, where, n)
		if ok && len(list) == 0 {
			p.errorf(f, n, "%s lists no syncs; name at least one, or use `sync: downstream`", where)
			return false
		}
		st.Syncs = list
		return ok
	}
	s, ok := p.str(f, where, n)
	if !ok {
		return false
	}
	if s == Downstream {
		st.Downstream = true
	} else {
		st.Syncs = []string{s}
	}
	return true
}

// validatePipelines checks that load steps name declared sources, which may be declared in
// models/*.yml, read after cdp.yaml. Sync names are checked by the caller that reads the syncs.
func validatePipelines(errs *Errors, p *Project) {
	for _, pl := range p.Pipelines {
		for _, st := range pl.Steps {
			if st.Kind == StepLoad {
				if _, ok := p.Sources[st.Source]; !ok {
					msg := fmt.Sprintf("pipeline %q: load step: source %q is not declared", pl.Name, st.Source)
					names := make([]string, 0, len(p.Sources))
					for name := range p.Sources {
						names = append(names, name)
					}
					if s := suggest(st.Source, names); s != "" {
						msg += fmt.Sprintf("; did you mean %q?", s)
					} else {
						msg += "; declare it under `sources:` in cdp.yaml"
					}
					errs.add(st.Pos, "%s", msg)
				}
			}
		}
	}
}
