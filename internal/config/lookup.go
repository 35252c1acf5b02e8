package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Target returns the named target; "" means the default target (the --target flag not given).
func (p *Project) Target(name string) (*Target, error) {
	if name == "" {
		name = p.DefaultTarget
	}
	if t, ok := p.Targets[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("target %q is not defined; defined targets: %s", name, targetList(p.Targets))
}

// Source returns the loadable source with that name.
func (p *Project) Source(name string) (*Source, error) {
	if s, ok := p.Sources[name]; ok {
		return s, nil
	}
	declared := "none"
	if len(p.Sources) > 0 {
		declared = strings.Join(slices.Sorted(maps.Keys(p.Sources)), ", ")
	}
	return nil, fmt.Errorf("source %q is not declared (declared sources: %s); declare it under `sources:` in cdp.yaml, or as a source table with a meta.cdp block in models/sources.yml", name, declared)
}

func targetList(targets map[string]*Target) string {
	if len(targets) == 0 {
		return "none (add one under `targets:` in cdp.yaml)"
	}
	return strings.Join(slices.Sorted(maps.Keys(targets)), ", ")
}
