package config

import (
	"path/filepath"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"
)

// TargetTypes are the warehouse engines a target can use.
var TargetTypes = []string{"duckdb", "bigquery"}

var targetKeys = []string{"type", "path", "threads", "memory_limit", "project", "dataset", "location"}

// memoryLimitRE is a size as DuckDB's memory_limit setting takes it.
var memoryLimitRE = regexp.MustCompile(`(?i)^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// engineKeys are the keys that mean something for one engine only; setting one on a target of
// the other engine is a mistake worth reporting (e.g. a bigquery target copied from duckdb).
var engineKeys = map[string][]string{
	"duckdb":   {"path", "memory_limit"},
	"bigquery": {"project", "dataset", "location"},
}

const defaultDuckDBPath = ".cdp/warehouse.duckdb"

func (p *parser) targets(proj *Project, n *yaml.Node) {
	pairs, _ := p.mapping(projectFile, "targets", n, nil)
	for _, kv := range pairs {
		proj.Targets[kv.key] = p.target(kv)
	}
}

// target parses one entry of targets: and fills in the defaults of its engine.
func (p *parser) target(kv pair) *Target {
	const f = projectFile
	where := join("targets", kv.key)
	t := &Target{Name: kv.key, Threads: 4, Pos: Pos{File: f, Line: kv.keyNode.Line}}
	pairs, _ := p.mapping(f, where, kv.val, targetKeys)
	for _, e := range pairs {
		at := join(where, e.key)
		switch e.key {
		case "type":
			t.Type, _ = p.str(f, at, e.val)
		case "path":
			t.Path, _ = p.str(f, at, e.val)
		case "threads":
			if v, ok := p.int(f, at, e.val); ok && !isNull(e.val) {
				t.Threads = v
			}
		case "memory_limit":
			if v, ok := p.str(f, at, e.val); ok && v != "" {
				if memoryLimitRE.MatchString(v) {
					t.MemoryLimit = v
				} else {
					p.errorf(f, e.val, "%s must be a size such as 512MB or 4GB, got %q", at, v)
				}
			}
		case "project":
			t.Project, _ = p.str(f, at, e.val)
		case "dataset":
			t.Dataset, _ = p.str(f, at, e.val)
		case "location":
			t.Location, _ = p.str(f, at, e.val)
		}
	}
	if _, known := engineKeys[t.Type]; known {
		for _, e := range pairs {
			for engine, keys := range engineKeys {
				if engine != t.Type && slices.Contains(keys, e.key) {
					p.errorf(f, e.keyNode, "%s applies to %s targets, not %s ones; remove it from %s", e.key, engine, t.Type, where)
				}
			}
		}
	}
	switch t.Type {
	case "duckdb":
		if t.Path == "" {
			t.Path = defaultDuckDBPath
		}
		if t.Path != ":memory:" && !filepath.IsAbs(t.Path) {
			t.Path = filepath.Join(p.dir, filepath.FromSlash(t.Path))
		}
	case "bigquery":
		if t.Location == "" {
			t.Location = "US"
		}
	}
	return t
}
