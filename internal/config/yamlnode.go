package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The helpers here read yaml.Node trees rather than decoding into structs, because only nodes
// keep line numbers for every value and let unknown keys be reported instead of dropped.

// pair is one key: value entry of a mapping, with aliases resolved.
type pair struct {
	key     string
	keyNode *yaml.Node
	val     *yaml.Node
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// readYAML parses one file and returns its top node: nil, true for an empty file; nil, false
// after reporting a syntax error under the file's name with yaml's line number.
func (p *parser) readYAML(file string, data []byte) (*yaml.Node, bool) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		pos := Pos{File: file}
		if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
			pos.Line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errs.add(pos, "invalid YAML: %s", msg)
		return nil, false
	}
	if len(doc.Content) == 0 {
		return nil, true
	}
	return resolve(doc.Content[0]), true
}

// resolve follows aliases (*name) to the node they point to.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node is, for "must be X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

// label names a place for messages: the dotted key path, or the file for its top level.
func label(file, where string) string {
	if where == "" {
		return file
	}
	return where
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func (p *parser) errorf(file string, n *yaml.Node, format string, args ...any) {
	p.errs.add(Pos{File: file, Line: n.Line}, format, args...)
}

// mapping returns the entries of n in file order; null counts as empty. where is the dotted key
// path of n ("" for the top level). When known is not nil, any other key is reported with the
// closest known key or the full list. Duplicate keys are reported, not silently overwritten.
// Merge keys (<<: *anchor) are honoured; explicit keys win over merged ones.
func (p *parser) mapping(file, where string, n *yaml.Node, known []string) ([]pair, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(file, n, "%s must be a mapping (key: value lines), got %s", label(file, where), describe(n))
		return nil, false
	}
	var out, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, p.mergeSources(file, where, v)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(file, k, "keys in %s must be plain names, got %s", label(file, where), describe(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(file, k, "key %q appears twice in %s (first at line %d); remove one", k.Value, label(file, where), line)
			continue
		}
		seen[k.Value] = k.Line
		if p.unknownKey(file, where, k, known) {
			continue
		}
		out = append(out, pair{key: k.Value, keyNode: k, val: v})
	}
	for _, m := range merged {
		if _, ok := seen[m.key]; ok {
			continue
		}
		seen[m.key] = m.keyNode.Line
		if p.unknownKey(file, where, m.keyNode, known) {
			continue
		}
		out = append(out, m)
	}
	return out, true
}

// mergeSources returns the entries a merge key brings in: one mapping or a list of them.
func (p *parser) mergeSources(file, where string, v *yaml.Node) []pair {
	if v.Kind == yaml.SequenceNode {
		var out []pair
		for _, item := range v.Content {
			out = append(out, p.mergeSources(file, where, resolve(item))...)
		}
		return out
	}
	pairs, _ := p.mapping(file, where, v, nil)
	return pairs
}

// unknownKey reports k when known is set and does not contain it.
func (p *parser) unknownKey(file, where string, k *yaml.Node, known []string) bool {
	if known == nil || slices.Contains(known, k.Value) {
		return false
	}
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if where != "" {
		msg += " in " + where
	}
	if s := suggest(k.Value, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += "; valid keys are " + strings.Join(known, ", ")
	}
	p.errorf(file, k, "%s", msg)
	return true
}

// lookupKey returns the value of key in mapping n, or nil. It reports nothing: it is for files
// that another package owns (dbt property files), where only a few keys matter to cdp.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// str reads a single value with ${VAR} expanded; null reads as "".
func (p *parser) str(file, where string, n *yaml.Node) (string, bool) {
	n = resolve(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(file, n, "%s must be a single value, got %s", label(file, where), describe(n))
		return "", false
	}
	if p.raw {
		return n.Value, true
	}
	v, err := expand(n.Value, p.lookupEnv)
	if err != nil {
		p.errorf(file, n, "%s", err)
		return "", false
	}
	return v, true
}

// int reads a whole number. Expansion comes first, so threads: ${THREADS:-4} works.
func (p *parser) int(file, where string, n *yaml.Node) (int, bool) {
	s, ok := p.str(file, where, n)
	if !ok || s == "" {
		return 0, ok
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		p.errorf(file, n, "%s must be a whole number, got %q", where, s)
		return 0, false
	}
	return v, true
}

func (p *parser) bool(file, where string, n *yaml.Node) (bool, bool) {
	s, ok := p.str(file, where, n)
	if !ok || s == "" {
		return false, ok
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.errorf(file, n, "%s must be true or false, got %q", where, s)
	return false, false
}

// strList reads a list of single values; null reads as an empty list.
func (p *parser) strList(file, where string, n *yaml.Node) ([]string, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(file, n, "%s must be a list ([a, b] or - item lines), got %s", where, describe(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, item := range n.Content {
		s, itemOK := p.str(file, where, item)
		ok = ok && itemOK
		out = append(out, s)
	}
	return out, ok
}

// value converts any YAML value to plain Go data (map[string]any, []any, string, int, float64,
// bool, nil) for vars. Strings are expanded; other scalars keep the type YAML gives them.
func (p *parser) value(file, where string, n *yaml.Node) any {
	n = resolve(n)
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.MappingNode:
		pairs, _ := p.mapping(file, where, n, nil)
		m := make(map[string]any, len(pairs))
		for _, kv := range pairs {
			m[kv.key] = p.value(file, join(where, kv.key), kv.val)
		}
		return m
	case n.Kind == yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, item := range n.Content {
			l[i] = p.value(file, fmt.Sprintf("%s[%d]", where, i), item)
		}
		return l
	case n.ShortTag() == "!!str":
		s, _ := p.str(file, where, n)
		return s
	}
	var v any
	if err := n.Decode(&v); err != nil {
		p.errorf(file, n, "%s: %v", where, err)
	}
	return v
}
