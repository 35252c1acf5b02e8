package project

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
)

// FreshnessPeriods are the units of a freshness threshold.
var FreshnessPeriods = []string{"minute", "hour", "day"}

var periods = map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}

// freshSpec is a freshness: block as written at one level; nil fields were not given.
type freshSpec struct {
	off        bool // freshness: null, which turns off the source's rule for a table
	warn, fail *time.Duration
	filter     *string
}

// over lays s over base, threshold by threshold, as dbt merges a table's freshness into its
// source's.
func (s *freshSpec) over(base *freshSpec) *freshSpec {
	if s == nil {
		return base
	}
	if s.off || base == nil {
		return s
	}
	out := *base
	if s.warn != nil {
		out.warn = s.warn
	}
	if s.fail != nil {
		out.fail = s.fail
	}
	if s.filter != nil {
		out.filter = s.filter
	}
	return &out
}

func (s *freshSpec) freshness() *Freshness {
	if s == nil || s.off {
		return nil
	}
	f := &Freshness{}
	if s.warn != nil {
		f.WarnAfter = *s.warn
	}
	if s.fail != nil {
		f.ErrorAfter = *s.fail
	}
	if s.filter != nil {
		f.Filter = *s.filter
	}
	if f.WarnAfter == 0 && f.ErrorAfter == 0 {
		return nil // nothing to check
	}
	return f
}

func (l *loader) freshness(file, where string, n *yaml.Node) *freshSpec {
	n = config.Resolve(n)
	if config.IsNull(n) {
		return &freshSpec{off: true}
	}
	s := &freshSpec{}
	pairs, _ := l.r.Mapping(file, where, n, []string{"warn_after", "error_after", "filter"})
	for _, kv := range pairs {
		at := where + "." + kv.Key
		switch kv.Key {
		case "warn_after":
			d := l.threshold(file, at, kv.Value)
			s.warn = &d
		case "error_after":
			d := l.threshold(file, at, kv.Value)
			s.fail = &d
		case "filter":
			f, _ := l.r.Str(file, at, kv.Value)
			s.filter = &f
		}
	}
	return s
}

// threshold reads {count: 12, period: hour}; null is no threshold.
func (l *loader) threshold(file, where string, n *yaml.Node) time.Duration {
	n = config.Resolve(n)
	if config.IsNull(n) {
		return 0
	}
	pairs, ok := l.r.Mapping(file, where, n, []string{"count", "period"})
	if !ok {
		return 0
	}
	count, period := 0, ""
	var unit time.Duration
	var countNode *yaml.Node
	for _, kv := range pairs {
		switch kv.Key {
		case "count":
			count, ok = l.r.Int(file, where+".count", kv.Value)
			countNode = kv.Value
			if !ok {
				return 0
			}
		case "period":
			period, _ = l.r.Str(file, where+".period", kv.Value)
			var known bool
			if unit, known = periods[period]; !known {
				msg := fmt.Sprintf("%s.period %q is not supported; use one of %s", where, period, strings.Join(FreshnessPeriods, ", "))
				if s := config.Suggest(strings.TrimSuffix(period, "s"), FreshnessPeriods); s != "" && s != period {
					msg = fmt.Sprintf("%s.period %q is not supported; did you mean %q? (allowed: %s)", where, period, s, strings.Join(FreshnessPeriods, ", "))
				}
				l.r.Errorf(file, kv.Value, "%s", msg)
				return 0
			}
		}
	}
	switch {
	case countNode == nil || period == "":
		l.r.Errorf(file, n, "%s needs both count and period, like {count: 12, period: hour}", where)
		return 0
	case count <= 0:
		l.r.Errorf(file, countNode, "%s.count must be a positive whole number, got %d", where, count)
		return 0
	}
	return time.Duration(count) * unit
}

// sourceDefaults is what a source gives its tables.
type sourceDefaults struct {
	name, database, schema, loadedAt string
	fresh                            *freshSpec
}

func (l *loader) sourceEntry(file string, n *yaml.Node) {
	pairs, name, ok := l.entry(file, n, "source", "the source's name, as used in source('name', 'table')")
	if !ok {
		return
	}
	pos := config.Pos{File: file, Line: n.Line}
	if first, dup := l.sources[name]; dup {
		l.r.Add(pos, "source %q is declared twice, here and at %s; list all its tables under one entry", name, first)
		return
	}
	l.sources[name] = pos
	where := fmt.Sprintf("source %q", name)
	src := sourceDefaults{name: name, schema: name}
	var tables *yaml.Node
	for _, kv := range pairs {
		if l.nearMiss(file, where, kv, sourceKeys) {
			continue
		}
		at := where + "." + kv.Key
		switch kv.Key {
		case "database":
			src.database, _ = l.r.Str(file, at, kv.Value)
		case "schema":
			if s, _ := l.r.Str(file, at, kv.Value); s != "" {
				src.schema = s
			}
		case "loaded_at_field":
			src.loadedAt, _ = l.r.Str(file, at, kv.Value)
		case "freshness":
			src.fresh = l.freshness(file, at, kv.Value)
		case "config":
			// dbt 1.10 moved these two under config:.
			if v := lookup(kv.Value, "loaded_at_field"); v != nil {
				src.loadedAt, _ = l.r.Str(file, at+".loaded_at_field", v)
			}
			if v := configFreshness(kv.Value); v != nil {
				src.fresh = l.freshness(file, at+".freshness", v)
			}
		case "tables":
			tables = kv.Value
		}
	}
	for _, t := range l.list(file, where+".tables", tables) {
		l.sourceTable(file, src, t)
	}
}

// configFreshness returns the freshness: node under a config: mapping, also when it is null.
func configFreshness(cfg *yaml.Node) *yaml.Node {
	cfg = config.Resolve(cfg)
	if cfg == nil || cfg.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(cfg.Content); i += 2 {
		if cfg.Content[i].Value == "freshness" {
			return config.Resolve(cfg.Content[i+1])
		}
	}
	return nil
}

func (l *loader) sourceTable(file string, src sourceDefaults, n *yaml.Node) {
	pairs, name, ok := l.entry(file, n, "table", "the table's name, as used in source('"+src.name+"', 'name')")
	if !ok {
		return
	}
	t := &SourceTable{
		ID: src.name + "." + name, Source: src.name, Name: name,
		Database: src.database, Schema: src.schema, Identifier: name,
		LoadedAtField: src.loadedAt, Pos: config.Pos{File: file, Line: n.Line},
	}
	where := fmt.Sprintf("source table %q", t.ID)
	var fresh *freshSpec
	testsLine := 0
	for _, kv := range pairs {
		if l.nearMiss(file, where, kv, tableKeys) {
			continue
		}
		at := where + "." + kv.Key
		switch kv.Key {
		case "description":
			t.Description = l.description(file, at, kv.Value)
		case "identifier":
			if s, _ := l.r.Str(file, at, kv.Value); s != "" {
				t.Identifier = s
			}
		case "loaded_at_field":
			if s, _ := l.r.Str(file, at, kv.Value); s != "" {
				t.LoadedAtField = s
			}
		case "freshness":
			fresh = l.freshness(file, at, kv.Value)
		case "config":
			if v := lookup(kv.Value, "loaded_at_field"); v != nil {
				if s, _ := l.r.Str(file, at+".loaded_at_field", v); s != "" {
					t.LoadedAtField = s
				}
			}
			if v := configFreshness(kv.Value); v != nil {
				fresh = l.freshness(file, at+".freshness", v)
			}
		case "columns":
			t.Columns, _ = l.columns(file, where, kv.Value, false)
		case "tests", "data_tests":
			l.testsKey(file, where, kv, "", &t.Tests, &testsLine)
		}
	}
	t.Freshness = fresh.over(src.fresh).freshness()
	if prev, dup := l.tables[t.ID]; dup {
		l.r.Add(t.Pos, "source table %s is declared twice, here and at %s; remove one", t.ID, prev.Pos)
		return
	}
	l.tables[t.ID] = t
}
