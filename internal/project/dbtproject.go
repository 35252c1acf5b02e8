package project

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cdp-dev/cdp/internal/config"
)

const dbtProjectFile = "dbt_project.yml"

// dbtProject is what cdp takes from dbt_project.yml.
type dbtProject struct {
	name   string
	paths  map[string][]string // model-paths, seed-paths, ... as given
	vars   map[string]any      // global vars, overlaid by the ones scoped to this project
	models *folderConfig       // the models: tree; nil when not given
	seeds  *folderConfig       // the seeds: tree
}

// dbtProjectKeys are the keys dbt reads in dbt_project.yml. Others are tolerated, except close
// misspellings of these.
var dbtProjectKeys = []string{
	"name", "version", "config-version", "profile",
	"model-paths", "seed-paths", "test-paths", "analysis-paths", "macro-paths", "snapshot-paths",
	"docs-paths", "asset-paths", "function-paths", "packages-install-path", "target-path", "log-path", "clean-targets",
	"require-dbt-version", "quoting", "models", "seeds", "snapshots", "tests", "data_tests",
	"sources", "metrics", "semantic-models", "saved-queries", "exposures", "unit_tests",
	"functions", "vars", "on-run-start", "on-run-end", "dispatch", "flags", "query-comment",
	"restrict-access",
}

// dbtPathKeys are the path lists cdp uses.
var dbtPathKeys = []string{"model-paths", "seed-paths", "macro-paths", "test-paths", "docs-paths"}

// dbtProject reads dbt_project.yml; nil when the folder has none. Problems go to l.r.
func (l *loader) dbtProject() (*dbtProject, error) {
	const f = dbtProjectFile
	data, err := fs.ReadFile(l.fsys, f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f, err)
	}
	d := &dbtProject{paths: map[string][]string{}, vars: map[string]any{}}
	l.dbt = d
	root, ok := l.r.Parse(f, data)
	if !ok {
		return d, nil
	}
	pairs, _ := l.r.Mapping(f, "", root, nil)
	for _, kv := range pairs {
		if kv.Key == "name" {
			d.name, _ = l.r.Str(f, "name", kv.Value)
		}
	}
	if d.name == "" {
		line := 1
		if root != nil {
			line = root.Line
		}
		l.r.Add(config.Pos{File: f, Line: line}, "the dbt project has no name; add `name: my_project` to %s", f)
	}
	var scopedVars map[string]any
	for _, kv := range pairs {
		if l.nearMiss(f, "", kv, dbtProjectKeys) {
			continue
		}
		switch {
		case slices.Contains(dbtPathKeys, kv.Key):
			d.paths[kv.Key] = l.folderList(f, kv)
		case kv.Key == "vars":
			vars, _ := l.r.Mapping(f, "vars", kv.Value, nil)
			for _, v := range vars {
				val := l.r.Value(f, "vars."+v.Key, v.Value)
				if m, ok := val.(map[string]any); ok && v.Key == d.name {
					scopedVars = m // dbt: vars under the project's name apply to its resources
					continue
				}
				d.vars[v.Key] = val
			}
		case kv.Key == "models":
			d.models = l.folderTree(f, "models", nil, kv.Value, kindModel, 0)
		case kv.Key == "seeds":
			d.seeds = l.folderTree(f, "seeds", nil, kv.Value, kindSeed, 0)
		}
	}
	for k, v := range scopedVars {
		d.vars[k] = v
	}
	return d, nil
}

// folderList reads a list of folders inside the project, cleaned and slash-separated.
func (l *loader) folderList(file string, kv config.Pair) []string {
	list, _ := l.r.StrList(file, kv.Key, kv.Value)
	out := make([]string, 0, len(list))
	for i, s := range list {
		clean := path.Clean(strings.ReplaceAll(s, `\`, "/"))
		if s == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") || !fs.ValidPath(clean) {
			l.r.Errorf(file, config.Resolve(kv.Value).Content[i], "%s entry %q must be a folder inside the project, relative to %s", kv.Key, s, file)
			continue
		}
		out = append(out, clean)
	}
	return out
}

// folderConfig is one level of a models: or seeds: tree in dbt_project.yml: configs for the
// resources whose fqn (project name, folders, resource name, version) passes through it.
type folderConfig struct {
	where string // dotted path, for messages: "models.jaffle.staging"
	pos   config.Pos
	layer *layer
	kids  map[string]*folderConfig
	order []string // kids in file order
	used  bool
}

// folderTree reads one level of a models: or seeds: tree. As dbt does, a key starting with +
// is a config; a key without + is a config when its value is not a mapping, else a folder
// (or resource, or version) below this one.
func (l *loader) folderTree(file, where string, keyNode, n *yaml.Node, kind resourceKind, depth int) *folderConfig {
	fc := &folderConfig{where: where, layer: newLayer(), kids: map[string]*folderConfig{}}
	if keyNode != nil {
		fc.pos = config.Pos{File: file, Line: keyNode.Line}
	} else {
		fc.pos = config.Pos{File: file, Line: n.Line}
	}
	pairs, _ := l.r.Mapping(file, where, n, nil)
	for _, kv := range pairs {
		key, plus := strings.CutPrefix(kv.Key, "+")
		val := config.Resolve(kv.Value)
		if !plus && val.Kind == yaml.MappingNode {
			if depth == 0 && l.dbt.name != "" && key != l.dbt.name {
				if s := config.Suggest(key, []string{l.dbt.name}); s != "" {
					l.r.Errorf(file, kv.KeyNode, "%s.%s names no project; did you mean %q, the project's name? (configs under it apply to nothing)", where, key, s)
					continue
				}
			}
			fc.kids[key] = l.folderTree(file, where+"."+key, kv.KeyNode, val, kind, depth+1)
			fc.order = append(fc.order, key)
			continue
		}
		if !plus {
			if s := nearMissKey(key, configKeys(kind)); s != "" {
				l.r.Errorf(file, kv.KeyNode, "unknown config %q in %s; did you mean \"+%s\"?", key, where, s)
				continue
			}
		}
		l.configKey(fc.layer, file, where, key, kv.KeyNode, val, kind)
	}
	return fc
}

// applyFolders applies the configs of tree along fqn to c (and colTypes), top level first, as
// dbt's fqn search does, marking the levels it passes through as used.
func applyFolders(tree *folderConfig, fqn []string, c *Config, colTypes *map[string]string) {
	if tree == nil {
		return
	}
	node := tree
	node.used = true
	node.layer.apply(c, colTypes)
	for _, part := range fqn {
		child := node.kids[part]
		if child == nil {
			return
		}
		child.used = true
		child.layer.apply(c, colTypes)
		node = child
	}
}

// unusedFolders warns about configuration paths that matched no resource, like dbt does.
// existing holds, for each dotted path, the names that do exist below it.
func (l *loader) unusedFolders(tree *folderConfig, existing map[string][]string, what string) {
	if tree == nil {
		return
	}
	for _, key := range tree.order {
		kid := tree.kids[key]
		if kid.used {
			l.unusedFolders(kid, existing, what)
			continue
		}
		msg := fmt.Sprintf("%s matches no %s, so its configs apply to nothing", kid.where, what)
		if s := config.Suggest(key, existing[tree.where]); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else if slices.Contains(configKeys(kindModel), key) || slices.Contains(configKeys(kindSeed), key) {
			msg += fmt.Sprintf("; if %s is meant as a config, write it as +%s", key, key)
		} else if tree.where == "models" || tree.where == "seeds" {
			msg += fmt.Sprintf("; cdp does not install dbt packages, and this project is named %q", l.dbt.name)
		}
		l.proj.Warnings = append(l.proj.Warnings, &config.Error{Pos: kid.pos, Msg: msg})
	}
}
