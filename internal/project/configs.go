package project

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
)

// Materializations are the values materialized: can take.
var Materializations = []string{"view", "table", "incremental", "ephemeral", "identity", "audience"}

// OnSchemaChange are the values on_schema_change: can take.
var OnSchemaChange = []string{"ignore", "fail", "append_new_columns", "sync_all_columns"}

// IncrementalStrategies are the values incremental_strategy: can take.
var IncrementalStrategies = []string{"append", "merge", "delete+insert"}

type resourceKind int

const (
	kindModel resourceKind = iota
	kindSeed
)

// typedConfigKeys are the configs Config has a field for.
var typedConfigKeys = []string{
	"materialized", "schema", "alias", "tags", "enabled", "unique_key", "incremental_strategy",
	"on_schema_change", "contract", "meta",
}

// otherConfigKeys are dbt configs cdp keeps in Extra; they are listed so that close
// misspellings of the typed ones can be told from them.
var otherConfigKeys = []string{
	"database", "docs", "persist_docs", "pre-hook", "post-hook", "pre_hook", "post_hook",
	"full_refresh", "grants", "sql_header", "access", "group", "incremental_predicates",
	"partition_by", "cluster_by", "event_time", "batch_size", "lookback", "begin",
	"concurrent_batches", "on_configuration_change", "packages", "labels", "quoting",
}

// seedConfigKeys are configs only seeds have.
var seedConfigKeys = []string{"column_types", "quote_columns", "delimiter"}

func configKeys(kind resourceKind) []string {
	keys := slices.Concat(typedConfigKeys, otherConfigKeys)
	if kind == kindSeed {
		keys = append(keys, seedConfigKeys...)
	}
	return keys
}

// layer is the configs given at one place (a dbt_project.yml folder, a property file entry).
type layer struct {
	set         map[string]bool // typed keys given here
	cfg         Config          // their values; Tags accumulate, Meta and Extra merge
	columnTypes map[string]string
}

func newLayer() *layer { return &layer{set: map[string]bool{}} }

// apply lays l over c (and over colTypes, for seeds).
func (l *layer) apply(c *Config, colTypes *map[string]string) {
	if l == nil {
		return
	}
	s := l.set
	if s["materialized"] {
		c.Materialized = l.cfg.Materialized
	}
	if s["schema"] {
		c.Schema = l.cfg.Schema
	}
	if s["alias"] {
		c.Alias = l.cfg.Alias
	}
	for _, t := range l.cfg.Tags {
		if !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
	if s["enabled"] {
		c.Enabled = l.cfg.Enabled
		delete(c.Extra, "enabled")
	}
	if s["unique_key"] {
		c.UniqueKey = slices.Clone(l.cfg.UniqueKey)
	}
	if s["incremental_strategy"] {
		c.IncrementalStrategy = l.cfg.IncrementalStrategy
	}
	if s["on_schema_change"] {
		c.OnSchemaChange = l.cfg.OnSchemaChange
	}
	if s["contract"] {
		c.ContractEnforced = l.cfg.ContractEnforced
	}
	if len(l.cfg.Meta) > 0 {
		c.Meta = merged(c.Meta, l.cfg.Meta)
	}
	if len(l.cfg.Extra) > 0 {
		c.Extra = merged(c.Extra, l.cfg.Extra)
		if _, ok := l.cfg.Extra["enabled"]; ok {
			c.Enabled = true // decided when the expression is rendered
		}
	}
	if len(l.columnTypes) > 0 && colTypes != nil {
		if *colTypes == nil {
			*colTypes = map[string]string{}
		}
		maps.Copy(*colTypes, l.columnTypes)
	}
}

func merged(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// configBlock reads a config: mapping of a property file entry into ly.
func (l *loader) configBlock(ly *layer, file, where string, n *yaml.Node, kind resourceKind) {
	pairs, _ := l.r.Mapping(file, where, n, nil)
	for _, kv := range pairs {
		if l.nearMiss(file, where, kv, configKeys(kind)) {
			continue
		}
		l.configKey(ly, file, where, kv.Key, kv.KeyNode, kv.Value, kind)
	}
}

// isJinja reports whether s is rendered by the compile step, so its value is not known here.
func isJinja(s string) bool { return strings.Contains(s, "{{") || strings.Contains(s, "{%") }

// configKey reads one config into ly, checking the values cdp knows.
func (l *loader) configKey(ly *layer, file, where, key string, keyNode, val *yaml.Node, kind resourceKind) {
	at := where + "." + key
	oneOf := func(allowed []string) (string, bool) {
		s, ok := l.r.Str(file, at, val)
		if !ok || s == "" || isJinja(s) || slices.Contains(allowed, s) {
			return s, ok
		}
		msg := fmt.Sprintf("%s %q is not supported; use one of %s", key, s, strings.Join(allowed, ", "))
		if sug := config.Suggest(s, allowed); sug != "" {
			msg = fmt.Sprintf("%s %q is not supported; did you mean %q? (allowed: %s)", key, s, sug, strings.Join(allowed, ", "))
		}
		l.r.Errorf(file, val, "%s", msg)
		return "", false
	}
	switch key {
	case "materialized":
		if kind == kindModel {
			if s, ok := oneOf(Materializations); ok {
				ly.cfg.Materialized, ly.set[key] = s, true
			}
			return
		}
	case "schema", "alias":
		if s, ok := l.r.Str(file, at, val); ok {
			if key == "schema" {
				ly.cfg.Schema = s
			} else {
				ly.cfg.Alias = s
			}
			ly.set[key] = true
		}
		return
	case "tags":
		ly.cfg.Tags = append(ly.cfg.Tags, l.strOrList(file, at, val)...)
		return
	case "enabled":
		if s := config.Resolve(val); s.Kind == yaml.ScalarNode && isJinja(s.Value) {
			if ly.cfg.Extra == nil {
				ly.cfg.Extra = map[string]any{}
			}
			ly.cfg.Extra["enabled"] = s.Value
			return
		}
		if b, ok := l.r.Bool(file, at, val); ok && !config.IsNull(val) {
			ly.cfg.Enabled, ly.set[key] = b, true
		}
		return
	case "unique_key":
		ly.cfg.UniqueKey, ly.set[key] = l.strOrList(file, at, val), true
		return
	case "incremental_strategy":
		if s, ok := oneOf(IncrementalStrategies); ok {
			ly.cfg.IncrementalStrategy, ly.set[key] = s, true
		}
		return
	case "on_schema_change":
		if s, ok := oneOf(OnSchemaChange); ok {
			ly.cfg.OnSchemaChange, ly.set[key] = s, true
		}
		return
	case "contract":
		pairs, _ := l.r.Mapping(file, at, val, []string{"enforced", "alias_types"})
		for _, kv := range pairs {
			if kv.Key == "enforced" {
				if b, ok := l.r.Bool(file, at+".enforced", kv.Value); ok {
					ly.cfg.ContractEnforced, ly.set[key] = b, true
				}
			}
		}
		return
	case "meta":
		if m, ok := l.r.Value(file, at, val).(map[string]any); ok {
			ly.cfg.Meta = merged(ly.cfg.Meta, m)
		} else if !config.IsNull(val) {
			l.r.Errorf(file, val, "%s must be a mapping (key: value lines), got %s", at, config.Describe(val))
		}
		return
	case "column_types":
		if kind == kindSeed {
			pairs, _ := l.r.Mapping(file, at, val, nil)
			if ly.columnTypes == nil {
				ly.columnTypes = map[string]string{}
			}
			for _, kv := range pairs {
				if s, ok := l.r.Str(file, at+"."+kv.Key, kv.Value); ok {
					ly.columnTypes[kv.Key] = s
				}
			}
			return
		}
	case "pre_hook", "post_hook":
		key = strings.ReplaceAll(key, "_", "-")
	}
	if ly.cfg.Extra == nil {
		ly.cfg.Extra = map[string]any{}
	}
	ly.cfg.Extra[key] = l.r.Value(file, at, val)
}

// strOrList reads a single value or a list of them.
func (l *loader) strOrList(file, where string, n *yaml.Node) []string {
	n = config.Resolve(n)
	if config.IsNull(n) {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		list, _ := l.r.StrList(file, where, n)
		return list
	}
	s, ok := l.r.Str(file, where, n)
	if !ok {
		return nil
	}
	return []string{s}
}

// nearMiss reports kv's key when it is not one of known but a close misspelling of one
// (tets for tests, colums for columns): such a key would otherwise be silently ignored, since
// dbt files carry many keys cdp does not read. It reports whether it did.
func (l *loader) nearMiss(file, where string, kv config.Pair, known []string) bool {
	s := nearMissKey(kv.Key, known)
	if s == "" {
		return false
	}
	in := ""
	if where != "" {
		in = " in " + where
	}
	l.r.Errorf(file, kv.KeyNode, "unknown key %q%s; did you mean %q?", kv.Key, in, s)
	return true
}

// nearMissKey returns the known key that key is a misspelling of, or "": one or two edits away
// (one for short keys), ignoring case and _ versus -, and not itself known.
func nearMissKey(key string, known []string) string {
	if slices.Contains(known, key) {
		return ""
	}
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	best, bestDist := "", 0
	for _, c := range known {
		d := config.EditDistance(norm(key), norm(c))
		if d > min(2, max(1, len(c)/3)) {
			continue
		}
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
