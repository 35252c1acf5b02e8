package project

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
)

// BuiltinTests are the generic tests every project has.
var BuiltinTests = []string{"not_null", "unique", "accepted_values", "relationships"}

// testConfigKeys are the configs of a data test. Older dbt let them sit among the arguments.
var testConfigKeys = []string{
	"severity", "where", "limit", "warn_if", "error_if", "fail_calc", "store_failures",
	"store_failures_as", "tags", "enabled", "meta", "database", "schema", "alias",
}

// testList reads a tests: list. column is the column the tests are on, "" for a model's.
func (l *loader) testList(file, where string, n *yaml.Node, column string) []*Test {
	var out []*Test
	for _, item := range l.list(file, where, n) {
		if t := l.test(file, where, item, column); t != nil {
			out = append(out, t)
			l.tests = append(l.tests, t)
		}
	}
	return out
}

// test reads one test in any of the forms dbt accepts:
//
//   - not_null
//   - accepted_values: {values: [a, b], severity: warn}            # arguments and configs mixed (older dbt)
//   - accepted_values: {values: [a, b], config: {severity: warn}}
//   - accepted_values: {arguments: {values: [a, b]}, config: {...}} # dbt 1.10+
//   - {test_name: accepted_values, name: custom_name, values: [a, b]}
func (l *loader) test(file, where string, n *yaml.Node, column string) *Test {
	t := &Test{Column: column, Severity: "error", Pos: config.Pos{File: file, Line: n.Line}}
	var args []config.Pair
	switch n.Kind {
	case yaml.ScalarNode:
		t.Name = n.Value
	case yaml.MappingNode:
		pairs, _ := l.r.Mapping(file, where, n, nil)
		if v := lookup(n, "test_name"); v != nil {
			t.Name, _ = l.r.Str(file, where+".test_name", v)
			for _, kv := range pairs {
				if kv.Key != "test_name" {
					args = append(args, kv)
				}
			}
			break
		}
		if len(pairs) != 1 {
			l.misplacedArgs(file, where, n, pairs)
			return nil
		}
		t.Name = pairs[0].Key
		body := config.Resolve(pairs[0].Value)
		if !config.IsNull(body) && body.Kind != yaml.MappingNode {
			l.r.Errorf(file, body, "the arguments of test %s must be a mapping (name: value lines under it), got %s", t.Name, config.Describe(body))
			return nil
		}
		args, _ = l.r.Mapping(file, where+" "+t.Name, body, nil)
	default:
		l.r.Errorf(file, n, "each test must be a name (- unique) or a mapping with the test's name as its key, got %s", config.Describe(n))
		return nil
	}
	if t.Name == "" {
		l.r.Errorf(file, n, "a test has no name; write - not_null, - unique or - <test name>: {arguments}")
		return nil
	}
	at := where + " " + t.Name
	var cfg, arguments []config.Pair
	for _, kv := range args {
		switch {
		case kv.Key == "config":
			cfg, _ = l.r.Mapping(file, at+" config", kv.Value, nil)
		case kv.Key == "arguments":
			arguments, _ = l.r.Mapping(file, at+" arguments", kv.Value, nil)
		case kv.Key == "name":
			t.CustomName, _ = l.r.Str(file, at+".name", kv.Value)
		case kv.Key == "description":
			t.Description, _ = l.r.Str(file, at+".description", kv.Value)
		case slices.Contains(testConfigKeys, kv.Key):
			l.testConfig(t, file, at, kv)
		default:
			if t.Args == nil {
				t.Args = map[string]any{}
			}
			t.Args[kv.Key] = l.r.Value(file, at+"."+kv.Key, kv.Value)
		}
	}
	for _, kv := range arguments {
		if _, dup := t.Args[kv.Key]; dup {
			l.r.Errorf(file, kv.KeyNode, "argument %s of test %s is given both under arguments: and directly; keep the one under arguments:", kv.Key, t.Name)
			continue
		}
		if t.Args == nil {
			t.Args = map[string]any{}
		}
		t.Args[kv.Key] = l.r.Value(file, at+" arguments."+kv.Key, kv.Value)
	}
	for _, kv := range cfg {
		if l.nearMiss(file, at+" config", kv, testConfigKeys) {
			continue
		}
		l.testConfig(t, file, at+" config", kv)
	}
	l.checkArgs(t)
	return t
}

// misplacedArgs reports a test mapping with more than one key. The usual cause is arguments
// written at the test name's indentation instead of under it.
func (l *loader) misplacedArgs(file, where string, n *yaml.Node, pairs []config.Pair) {
	if len(pairs) == 0 {
		l.r.Errorf(file, n, "empty test in %s; write - not_null, - unique or - <test name>: {arguments}", where)
		return
	}
	keys := make([]string, len(pairs))
	for i, kv := range pairs {
		keys[i] = kv.Key
	}
	if config.IsNull(pairs[0].Value) {
		l.r.Errorf(file, n, "test %s has its arguments (%s) at its own indentation; indent them under %s:", pairs[0].Key, strings.Join(keys[1:], ", "), pairs[0].Key)
		return
	}
	l.r.Errorf(file, n, "a test is a mapping with one key, the test's name, got keys %s; make each test its own - item", strings.Join(keys, ", "))
}

// testConfig reads one config of a test.
func (l *loader) testConfig(t *Test, file, where string, kv config.Pair) {
	at := where + "." + kv.Key
	switch kv.Key {
	case "severity":
		s, ok := l.r.Str(file, at, kv.Value)
		if !ok {
			return
		}
		if isJinja(s) {
			t.Severity = s
			return
		}
		switch strings.ToLower(s) {
		case "error", "warn":
			t.Severity = strings.ToLower(s)
		default:
			l.r.Errorf(file, kv.Value, "severity %q is not supported; use error or warn", s)
		}
	case "where":
		t.Where, _ = l.r.Str(file, at, kv.Value)
	default:
		if t.Config == nil {
			t.Config = map[string]any{}
		}
		t.Config[kv.Key] = l.r.Value(file, at, kv.Value)
	}
}

// checkArgs reports missing arguments of the built-in tests.
func (l *loader) checkArgs(t *Test) {
	need := func(arg, example string) {
		if _, ok := t.Args[arg]; !ok {
			l.r.Add(t.Pos, "test %s%s needs %s; add it under the test: %s", t.Name, onColumn(t), arg, example)
		}
	}
	switch t.Name {
	case "accepted_values":
		need("values", "values: [a, b]")
		if v, ok := t.Args["values"]; ok {
			if _, list := v.([]any); !list {
				l.r.Add(t.Pos, "test accepted_values%s: values must be a list, like values: [a, b]", onColumn(t))
			}
		}
	case "relationships":
		need("to", "to: ref('other_model')")
		need("field", "field: the_other_models_column")
	}
}

func onColumn(t *Test) string {
	if t.Column == "" {
		return ""
	}
	return fmt.Sprintf(" on column %s", t.Column)
}

// checkTestNames reports tests whose name is a misspelling of a built-in test and that no
// macro defines. Other names are custom tests: the compile step finds their macros.
func (l *loader) checkTestNames() {
	for _, t := range l.tests {
		if slices.Contains(BuiltinTests, t.Name) || strings.Contains(t.Name, ".") || l.testMacros[t.Name] {
			continue
		}
		if s := config.Suggest(t.Name, BuiltinTests); s != "" {
			l.r.Add(t.Pos, "unknown test %q%s; did you mean %q? (no macro defines a test named %s)", t.Name, onColumn(t), s, t.Name)
		}
	}
}

func cloneTests(tests []*Test) []*Test {
	if len(tests) == 0 {
		return nil
	}
	out := make([]*Test, len(tests))
	for i, t := range tests {
		c := *t
		c.Args = maps.Clone(t.Args)
		c.Config = maps.Clone(t.Config)
		out[i] = &c
	}
	return out
}

func cloneColumn(c *Column) *Column {
	out := *c
	out.Tests = cloneTests(c.Tests)
	return &out
}
