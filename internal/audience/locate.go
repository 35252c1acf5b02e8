package audience

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yamlNode is a parsed YAML value with the line it starts on, for placing errors.
type yamlNode struct{ n *yaml.Node }

// findEntry finds the mapping that starts at line in a YAML file (a model's entry).
func findEntry(data []byte, line int) *yamlNode {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return nil
	}
	var found *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if found != nil {
			return
		}
		if n.Kind == yaml.MappingNode && n.Line == line {
			found = n
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if found == nil {
		return nil
	}
	return &yamlNode{found}
}

// get is the value under a mapping key or a list index ("2"); nil when absent.
func (y *yamlNode) get(seg string) *yamlNode {
	if y == nil {
		return nil
	}
	n := y.n
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				v := n.Content[i+1]
				if v.Line == 0 {
					v = n.Content[i]
				}
				return &yamlNode{v}
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return &yamlNode{n.Content[i]}
		}
	}
	return nil
}

func (y *yamlNode) line() int { return y.n.Line }

// splitPath splits an Error.Path ("where.all[2].op") into keys and indexes.
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				out = append(out, part)
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				out = append(out, part)
				break
			}
			out = append(out, part[i+1:j])
			part = part[j+1:]
			if part == "" {
				break
			}
		}
	}
	return out
}
