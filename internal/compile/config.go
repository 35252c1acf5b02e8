package compile

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cdp-dev/cdp/internal/project"
)

// cloneConfig copies c deeply enough that config() calls never change the project's Config.
func cloneConfig(c project.Config) project.Config {
	c.Tags = slices.Clone(c.Tags)
	c.UniqueKey = slices.Clone(c.UniqueKey)
	c.Meta = maps.Clone(c.Meta)
	c.Extra = maps.Clone(c.Extra)
	return c
}

// normalizeConfig fills the defaults a model's config has when nothing sets them.
func normalizeConfig(c project.Config) project.Config {
	if c.Materialized == "" {
		c.Materialized = "view"
	}
	return c
}

// applyConfig applies one config(key=value) argument; it returns what is wrong, or "".
// Known keys are typed as in project.Config; tags and meta merge, the rest go to Extra.
func applyConfig(c *project.Config, key string, v any) string {
	str := func(dst *string) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("want a string, got %s", describe(v))
		}
		*dst = s
		return ""
	}
	switch key {
	case "materialized":
		return str(&c.Materialized)
	case "schema":
		return str(&c.Schema)
	case "alias":
		return str(&c.Alias)
	case "incremental_strategy":
		return str(&c.IncrementalStrategy)
	case "on_schema_change":
		return str(&c.OnSchemaChange)
	case "enabled":
		b, ok := v.(bool)
		if !ok {
			return fmt.Sprintf("want true or false, got %s", describe(v))
		}
		c.Enabled = b
	case "tags":
		tags, ok := stringList(v)
		if !ok {
			return fmt.Sprintf("want a string or a list of strings, got %s", describe(v))
		}
		for _, t := range tags {
			if !slices.Contains(c.Tags, t) {
				c.Tags = append(c.Tags, t)
			}
		}
	case "unique_key":
		keys, ok := stringList(v)
		if !ok {
			return fmt.Sprintf("want a column name or a list of them, got %s", describe(v))
		}
		c.UniqueKey = keys
	case "contract":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("want {'enforced': true}, got %s", describe(v))
		}
		if e, ok := m["enforced"]; ok {
			b, ok := e.(bool)
			if !ok {
				return fmt.Sprintf("enforced: want true or false, got %s", describe(e))
			}
			c.ContractEnforced = b
		}
	case "meta":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("want a dict, got %s", describe(v))
		}
		if c.Meta == nil {
			c.Meta = map[string]any{}
		}
		maps.Copy(c.Meta, m)
	default:
		if c.Extra == nil {
			c.Extra = map[string]any{}
		}
		switch key {
		case "pre_hook", "post_hook":
			key = strings.ReplaceAll(key, "_", "-") // as the project reader stores them
		}
		c.Extra[key] = v
	}
	return ""
}

func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []string:
		return slices.Clone(v), true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "none"
	case string:
		return fmt.Sprintf("%q", v)
	case map[string]any:
		return "a dict"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

// configMap is the canonical form of a Config, with dbt's key names: the manifest writes it,
// config.get reads it and the fingerprint hashes its JSON (encoding/json sorts map keys, so
// the bytes do not depend on map order).
func configMap(c project.Config) map[string]any {
	m := make(map[string]any, len(c.Extra)+8)
	for k, v := range c.Extra {
		m[k] = normalizeJSON(v)
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("materialized", c.Materialized)
	set("schema", c.Schema)
	set("alias", c.Alias)
	set("incremental_strategy", c.IncrementalStrategy)
	set("on_schema_change", c.OnSchemaChange)
	m["enabled"] = c.Enabled
	if len(c.Tags) > 0 {
		m["tags"] = slices.Clone(c.Tags)
	}
	if len(c.UniqueKey) > 0 {
		m["unique_key"] = slices.Clone(c.UniqueKey)
	}
	if c.ContractEnforced {
		m["contract"] = map[string]any{"enforced": true}
	}
	if len(c.Meta) > 0 {
		m["meta"] = normalizeJSON(c.Meta)
	}
	return m
}

// normalizeJSON makes YAML- or template-decoded data encodable as JSON (map keys as strings).
func normalizeJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalizeJSON(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(k)] = normalizeJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeJSON(e)
		}
		return out
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
