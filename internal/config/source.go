package config

import (
	"errors"
	"io/fs"
	"path"

	"gopkg.in/yaml.v3"
)

// SourceFormats are the file formats a source can load.
var SourceFormats = []string{"segment", "ndjson", "csv", "parquet"}

var (
	sourceKeys    = []string{"format", "schema", "contract"}
	dbtSourceKeys = []string{"format", "contract"} // the schema is the dbt source's
)

// sources parses the sources: mapping of cdp.yaml.
func (p *parser) sources(proj *Project, n *yaml.Node) {
	pairs, _ := p.mapping(projectFile, "sources", n, nil)
	for _, kv := range pairs {
		src := &Source{Name: kv.key, Schema: "raw", Pos: Pos{File: projectFile, Line: kv.keyNode.Line}}
		p.sourceSpec(src, projectFile, join("sources", kv.key), kv.val, sourceKeys)
		p.addSource(proj, src)
	}
}

// sourceSpec fills src from a source block: the cdp.yaml entry or a dbt table's meta.cdp.
// Contract paths are relative to the file the block is in.
func (p *parser) sourceSpec(src *Source, file, where string, n *yaml.Node, keys []string) {
	pairs, _ := p.mapping(file, where, n, keys)
	for _, kv := range pairs {
		at := join(where, kv.key)
		switch kv.key {
		case "format":
			src.Format, _ = p.str(file, at, kv.val)
		case "schema":
			if s, ok := p.str(file, at, kv.val); ok && s != "" {
				src.Schema = s
			}
		case "contract":
			src.Contract = p.contractRef(file, at, kv.val)
		}
	}
}

// contractRef reads a contract: given as a file path relative to file, or inline.
func (p *parser) contractRef(file, where string, n *yaml.Node) *Contract {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.MappingNode:
		return p.contract(file, where, n)
	case n.Kind != yaml.ScalarNode:
		p.errorf(file, n, "%s must be a contract file path or an inline mapping of fields, got %s", where, describe(n))
		return nil
	}
	rel, ok := p.str(file, where, n)
	if !ok {
		return nil
	}
	name, ok := projectPath(path.Dir(file), rel)
	if !ok {
		p.errorf(file, n, "contract %q must be a file inside the project, relative to %s", rel, file)
		return nil
	}
	c, cached := p.contracts[name]
	if !cached {
		c = p.contractFile(file, n, name)
		p.contracts[name] = c
	}
	return c.clone()
}

// contractFile reads and parses one contract file; ref is the node that names it.
func (p *parser) contractFile(file string, ref *yaml.Node, name string) *Contract {
	data, err := fs.ReadFile(p.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		p.errorf(file, ref, "contract file %s does not exist; create it or fix the path (it is relative to %s)", name, file)
		return nil
	}
	if err != nil {
		p.errorf(file, ref, "read contract file %s: %v", name, err)
		return nil
	}
	before := len(p.errs)
	root, ok := p.readYAML(name, data)
	if !ok {
		return nil
	}
	var c *Contract
	if root == nil {
		c = &Contract{Pos: Pos{File: name, Line: 1}, AllowUnplannedEvents: true}
	} else {
		c = p.contract(name, "", root)
	}
	if len(p.errs) > before {
		return nil
	}
	return c
}

// addSource adds src unless its name is taken; a second declaration is an error naming both,
// since silently picking one would load data with the wrong contract.
func (p *parser) addSource(proj *Project, src *Source) {
	if prev, dup := proj.Sources[src.Name]; dup {
		p.errs.add(src.Pos, "source %q is declared twice (first at %s); remove one of the declarations", src.Name, prev.Pos)
		return
	}
	proj.Sources[src.Name] = src
}
