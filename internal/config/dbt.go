package config

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// modelSources reads the loadable sources declared in dbt property files under the model
// paths: a source table with a meta.cdp block (or config.meta.cdp, dbt's newer spelling).
// The namespace keeps the files valid for an unmodified dbt. Everything outside meta.cdp
// belongs to dbt and to the package that reads models, so unknown keys there are not errors.
func (p *parser) modelSources(proj *Project) {
	seen := map[string]bool{} // overlapping model paths must not declare a source twice
	for _, root := range proj.ModelPaths {
		err := fs.WalkDir(p.fsys, root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				if name == root && errors.Is(err, fs.ErrNotExist) {
					return nil // a new project may have no models yet
				}
				return err
			}
			if d.IsDir() {
				if name != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if ext := path.Ext(name); (ext == ".yml" || ext == ".yaml") && !seen[name] {
				seen[name] = true
				p.dbtFile(proj, name)
			}
			return nil
		})
		if err != nil {
			p.errs.add(Pos{File: root}, "read model path %s: %v", root, err)
		}
	}
}

// dbtFile reads the sources: list of one dbt property file.
func (p *parser) dbtFile(proj *Project, file string) {
	data, err := fs.ReadFile(p.fsys, file)
	if err != nil {
		p.errs.add(Pos{File: file}, "read %s: %v", file, err)
		return
	}
	root, _ := p.readYAML(file, data)
	sources := lookupKey(root, "sources")
	if sources == nil || sources.Kind != yaml.SequenceNode {
		return
	}
	for _, s := range sources.Content {
		schema := lookupKey(s, "schema") // dbt: the schema defaults to the source name
		if isNull(schema) {
			schema = lookupKey(s, "name")
		}
		tables := lookupKey(s, "tables")
		if schema == nil || tables == nil || tables.Kind != yaml.SequenceNode {
			continue
		}
		for _, t := range tables.Content {
			spec := p.cdpMeta(file, resolve(t))
			name := lookupKey(t, "name")
			if spec == nil || name == nil {
				continue
			}
			src := &Source{Name: name.Value, Schema: schema.Value, Pos: Pos{File: file, Line: resolve(t).Line}}
			p.sourceSpec(src, file, "meta.cdp", spec, dbtSourceKeys)
			p.addSource(proj, src)
		}
	}
}

// cdpMeta returns the meta.cdp block of a dbt source table, or nil when it has none.
func (p *parser) cdpMeta(file string, table *yaml.Node) *yaml.Node {
	meta := lookupKey(lookupKey(table, "meta"), "cdp")
	configMeta := lookupKey(lookupKey(lookupKey(table, "config"), "meta"), "cdp")
	if meta != nil && configMeta != nil {
		p.errorf(file, configMeta, "cdp settings are given both in meta.cdp (line %d) and config.meta.cdp; keep one", meta.Line)
	}
	if meta != nil {
		return meta
	}
	return configMeta
}
