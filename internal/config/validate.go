package config

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Validate checks the rules that span fields: engines and their required settings, that the
// default target exists, source formats and names, contracts, and the sources and step order of
// pipelines. Parse calls it; call it again after changing a Project by hand. Every problem is
// reported, as Errors.
func (p *Project) Validate() error {
	var errs Errors
	if p.Name == "" {
		errs.add(Pos{File: projectFile}, "the project has no name; add `name: my_project` to cdp.yaml")
	}
	for _, name := range slices.Sorted(maps.Keys(p.Targets)) {
		validateTarget(&errs, p.Targets[name])
	}
	if _, ok := p.Targets[p.DefaultTarget]; !ok {
		defined := targetList(p.Targets)
		if p.DefaultTargetPos.File != "" {
			errs.add(Pos{}, "target %q (%s) is not defined; defined targets: %s", p.DefaultTarget, p.DefaultTargetPos, defined)
		} else {
			errs.add(Pos{File: projectFile}, "default target %q is not defined; defined targets: %s; set `target:` in cdp.yaml to one of them", p.DefaultTarget, defined)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Sources)) {
		validateSource(&errs, p.Sources[name])
	}
	validatePipelines(&errs, p)
	return errs.err()
}

func validateTarget(errs *Errors, t *Target) {
	where := "targets." + t.Name
	switch t.Type {
	case "":
		errs.add(t.Pos, "target %q has no type; add `type: duckdb` or `type: bigquery` under %s", t.Name, where)
	case "duckdb":
		if t.Path != ":memory:" && !filepath.IsAbs(t.Path) {
			errs.add(t.Pos, "target %q: path %q must be absolute or \":memory:\" (Parse resolves relative paths against the project)", t.Name, t.Path)
		}
	case "bigquery":
		if t.Project == "" {
			errs.add(t.Pos, "bigquery target %q needs the GCP project to run in; add `project: my-gcp-project` under %s", t.Name, where)
		}
		if t.Dataset == "" {
			errs.add(t.Pos, "bigquery target %q needs a dataset for its tables; add `dataset: cdp` under %s", t.Name, where)
		}
	default:
		errs.add(t.Pos, "target %q: type %q is not supported; use one of %s", t.Name, t.Type, strings.Join(TargetTypes, ", "))
	}
	if t.Threads < 1 {
		errs.add(t.Pos, "target %q: threads must be at least 1, got %d", t.Name, t.Threads)
	}
}

func validateSource(errs *Errors, s *Source) {
	if !isIdent(s.Name) {
		errs.add(s.Pos, "source name %q is not a valid table name; use letters, digits and _, starting with a letter or _", s.Name)
	}
	if !isIdent(s.Schema) {
		errs.add(s.Pos, "source %q: schema %q is not a valid schema name; use letters, digits and _, starting with a letter or _", s.Name, s.Schema)
	}
	switch {
	case s.Format == "":
		errs.add(s.Pos, "source %q has no format; add `format:` with one of %s", s.Name, strings.Join(SourceFormats, ", "))
		return
	case !slices.Contains(SourceFormats, s.Format):
		errs.add(s.Pos, "source %q: format %q is not supported; use one of %s", s.Name, s.Format, strings.Join(SourceFormats, ", "))
		return
	}
	columnar := s.Format == "csv" || s.Format == "parquet"
	c := s.Contract
	if columnar && (c == nil || len(c.Fields) == 0) {
		errs.add(s.Pos, "source %q (%s) needs a contract that lists its columns; add `contract:` with `fields:` (name and type of each column, in file order)", s.Name, s.Format)
		return
	}
	if c == nil {
		return
	}
	validateFields(errs, "field", c.Fields, columnar)
	if s.Format != "segment" {
		if len(c.AllowedTypes) > 0 {
			errs.add(c.Pos, "source %q: allowed_types applies to segment sources only; remove it from the contract", s.Name)
		}
		if len(c.Events) > 0 {
			errs.add(c.Pos, "source %q: tracking_plan applies to segment sources only; remove it from the contract", s.Name)
		}
		return
	}
	for _, t := range c.AllowedTypes {
		if !slices.Contains(SegmentTypes, t) {
			errs.add(c.Pos, "allowed_types: %q is not a Segment call type; use any of %s", t, strings.Join(SegmentTypes, ", "))
		}
	}
	events := map[string]Pos{}
	for _, ev := range c.Events {
		if ev.Name == "" {
			errs.add(ev.Pos, "tracking plan event has no name; add `name:` with the track call's event name")
			continue
		}
		if first, dup := events[ev.Name]; dup {
			errs.add(ev.Pos, "event %q is planned twice (first at %s); merge the two", ev.Name, first)
		}
		events[ev.Name] = ev.Pos
		validateFields(errs, "property of event "+strconv.Quote(ev.Name), ev.Properties, false)
	}
}

// scalarTypes are the field types whose values can be compared with a list of allowed values.
var scalarTypes = []string{"string", "integer", "number", "boolean", "timestamp"}

// validateFields checks names, types and allowed values; what names a field in messages
// ("field" or "property of event ..."); columns is true when names are table columns.
func validateFields(errs *Errors, what string, fields []Field, columns bool) {
	seen := map[string]Pos{}
	for _, f := range fields {
		if f.Name == "" {
			errs.add(f.Pos, "%s has no name; add `name:`", what)
			continue
		}
		if first, dup := seen[f.Name]; dup {
			errs.add(f.Pos, "%s %q is declared twice (first at %s); remove one", what, f.Name, first)
		}
		seen[f.Name] = f.Pos
		if columns && strings.Contains(f.Name, ".") {
			errs.add(f.Pos, "column %q: csv and parquet fields are column names, not dotted JSON paths; rename it", f.Name)
		} else if slices.Contains(strings.Split(f.Name, "."), "") {
			errs.add(f.Pos, "%s %q is not a valid dotted path; write parts separated by single dots, like context.device.id", what, f.Name)
		}
		typ := f.Type
		if typ == "" {
			typ = "any"
		}
		if !slices.Contains(FieldTypes, typ) {
			errs.add(f.Pos, "%s %q: type %q is not supported; use one of %s", what, f.Name, f.Type, strings.Join(FieldTypes, ", "))
			continue
		}
		if len(f.Allowed) > 0 {
			validateAllowed(errs, what, f, typ)
		}
	}
}

func validateAllowed(errs *Errors, what string, f Field, typ string) {
	if !slices.Contains(scalarTypes, typ) {
		errs.add(f.Pos, "%s %q: allowed values need a scalar type (%s), not %s; change the type or remove allowed", what, f.Name, strings.Join(scalarTypes, ", "), typ)
		return
	}
	for _, v := range f.Allowed {
		var err error
		switch typ {
		case "integer":
			_, err = strconv.ParseInt(v, 10, 64)
		case "number":
			_, err = strconv.ParseFloat(v, 64)
		case "boolean":
			if v != "true" && v != "false" {
				err = strconv.ErrSyntax
			}
		}
		if err != nil {
			errs.add(f.Pos, "%s %q: allowed value %q is not a valid %s; fix the value or the type", what, f.Name, v, typ)
		}
	}
}
