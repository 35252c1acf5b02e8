package project

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
)

// assemble joins the SQL files, CSV files and property file entries into models and seeds,
// then runs the checks that need everything read.
func (l *loader) assemble() {
	for _, mp := range l.propOrder {
		if len(mp.versions) > 0 {
			l.versionedModel(mp)
		} else {
			l.describedModel(mp)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.sql)) {
		if f := l.sql[name]; f.claimed == "" {
			m := l.newModel(f, name)
			l.proj.Models = append(l.proj.Models, m)
		}
	}
	for _, m := range l.proj.Models {
		if s, clash := l.seeds[m.Name]; clash {
			l.r.Add(s.Pos, "seed %q has the same name as model %s (%s), so ref('%s') would be ambiguous; rename one", s.Name, m.ID, m.Path, s.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.seedProps)) {
		l.describedSeed(l.seedProps[name])
	}
	if l.dbt != nil {
		l.unusedFolders(l.dbt.models, l.existing, "model")
		l.unusedFolders(l.dbt.seeds, l.existing, "seed")
	}
	l.checkDocRefs()
	l.checkTestNames()
}

// newModel makes the model of f with its dbt_project.yml config and nothing from property files.
func (l *loader) newModel(f *sqlFile, name string, version ...string) *Model {
	m := &Model{
		ID:     name,
		Name:   name,
		Latest: true,
		Path:   f.path,
		SQL:    f.sql,
		Config: Config{Materialized: "view", Enabled: true},
		Pos:    config.Pos{File: f.path, Line: 1},
	}
	var extra []string
	if len(version) > 0 {
		m.Version = version[0]
		m.ID = name + ".v" + m.Version
		extra = []string{"v" + m.Version}
	}
	applyFolders(l.modelTree(), l.fqn(kindModel, f.root, f.path, name, extra...), &m.Config, nil)
	f.claimed = m.ID
	return m
}

// missingSQL reports a property file entry for a model with no SQL file.
func (l *loader) missingSQL(mp *modelProps) {
	if _, isSeed := l.seeds[mp.name]; isSeed {
		l.r.Add(mp.pos, "model %q has no SQL file, but there is a seed by that name; describe it under seeds: instead of models:", mp.name)
		return
	}
	if s := config.Suggest(mp.name, slices.Sorted(maps.Keys(l.sql))); s != "" {
		l.r.Add(mp.pos, "model %q has no SQL file; did you mean %s?", mp.name, s)
		return
	}
	l.r.Add(mp.pos, "model %q has no SQL file; create %s or fix the name", mp.name, path.Join(path.Dir(mp.pos.File), mp.name+".sql"))
}

// describedModel is an unversioned model with a property file entry.
func (l *loader) describedModel(mp *modelProps) {
	if mp.latestNode != nil {
		l.r.Errorf(mp.pos.File, mp.latestNode, "model %q has latest_version but no versions:; add the versions or remove latest_version", mp.name)
	}
	f := l.sql[mp.name]
	switch {
	case f == nil:
		l.missingSQL(mp)
		return
	case f.claimed != "":
		l.r.Add(mp.pos, "model %q: %s is the SQL file of %s already; describe each model once", mp.name, f.path, f.claimed)
		return
	}
	m := l.newModel(f, mp.name)
	m.Description = mp.description
	m.Columns = mp.columns
	m.Tests = mp.tests
	m.Pos = mp.pos
	mp.meta.apply(&m.Config, nil)
	mp.config.apply(&m.Config, nil)
	l.proj.Models = append(l.proj.Models, m)
}

// versionedModel makes one model per version of mp. Each version inherits the entry's
// properties and overrides what it gives itself.
func (l *loader) versionedModel(mp *modelProps) {
	latest := l.latestVersion(mp)
	for _, vp := range mp.versions {
		f, fileName := l.versionFile(mp, vp, latest)
		if f == nil {
			hint := fmt.Sprintf("create %s.sql", path.Join(path.Dir(mp.pos.File), fileName))
			if vp.definedIn == "" {
				hint += " or set defined_in: to the name of the file that has it (without .sql)"
			}
			l.r.Add(vp.pos, "version %s of model %q has no SQL file %s.sql; %s", vp.v, mp.name, fileName, hint)
			continue
		}
		if f.claimed != "" {
			l.r.Add(vp.pos, "version %s of model %q: %s is the SQL file of %s already; give each version its own file", vp.v, mp.name, f.path, f.claimed)
			continue
		}
		m := l.newModel(f, mp.name, vp.v)
		m.Latest = vp.v == latest
		m.Pos = vp.pos
		m.Description = mp.description
		if vp.hasDescription {
			m.Description = vp.description
		}
		m.Columns = l.versionColumns(mp, vp)
		m.Tests = cloneTests(mp.tests)
		if vp.hasTests {
			m.Tests = vp.tests
		}
		for _, ly := range []*layer{mp.meta, mp.config, vp.meta, vp.config} {
			ly.apply(&m.Config, nil)
		}
		l.proj.Models = append(l.proj.Models, m)
	}
	if f := l.sql[mp.name]; f != nil && f.claimed == "" {
		f.claimed = mp.name // not a model of its own
		l.r.Add(config.Pos{File: f.path, Line: 1}, "model %q is versioned (%s), but no version is defined in this file; rename it to %s_v<version>.sql, or set defined_in: %s on the version it holds", mp.name, mp.pos, mp.name, mp.name)
	}
}

// versionFile is the SQL file of a version: defined_in, else <name>_v<v>, else, for the latest
// version, <name>. fileName is the name looked for, for messages.
func (l *loader) versionFile(mp *modelProps, vp *versionProps, latest string) (f *sqlFile, fileName string) {
	if vp.definedIn != "" {
		return l.sql[vp.definedIn], vp.definedIn
	}
	fileName = mp.name + "_v" + vp.v
	if f := l.sql[fileName]; f != nil {
		return f, fileName
	}
	if vp.v == latest {
		return l.sql[mp.name], fileName
	}
	return nil, fileName
}

// latestVersion is latest_version when given, else the highest version: numerically when all
// are numbers, else alphabetically, as in dbt.
func (l *loader) latestVersion(mp *modelProps) string {
	vs := make([]string, len(mp.versions))
	for i, vp := range mp.versions {
		vs[i] = vp.v
	}
	if mp.latest != "" {
		for _, v := range vs {
			if sameVersion(v, mp.latest) {
				return v
			}
		}
		l.r.Errorf(mp.pos.File, mp.latestNode, "latest_version %s of model %q is not one of its versions (%s); add it under versions: or fix the number", mp.latest, mp.name, strings.Join(vs, ", "))
	}
	numeric := true
	for _, v := range vs {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			numeric = false
		}
	}
	return slices.MaxFunc(vs, func(a, b string) int {
		if numeric {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			return cmp.Compare(x, y)
		}
		return cmp.Compare(a, b)
	})
}

func sameVersion(a, b string) bool {
	if a == b {
		return true
	}
	x, errX := strconv.ParseFloat(a, 64)
	y, errY := strconv.ParseFloat(b, 64)
	return errX == nil && errY == nil && x == y
}

// versionColumns are the columns of one version: the model's columns chosen by the version's
// include/exclude entry (all by default), with the version's own columns replacing the ones of
// the same name or added after them.
func (l *loader) versionColumns(mp *modelProps, vp *versionProps) []*Column {
	names := make([]string, len(mp.columns))
	for i, c := range mp.columns {
		names[i] = c.Name
	}
	check := func(list []string, what string) {
		for _, n := range list {
			if slices.Contains(names, n) {
				continue
			}
			msg := fmt.Sprintf("%s lists column %q, which model %q does not declare in its columns", what, n, mp.name)
			if s := config.Suggest(n, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			l.r.Add(vp.sel.pos, "%s", msg)
		}
	}
	keep := func(string) bool { return true }
	if sel := vp.sel; sel != nil {
		check(sel.include, "include")
		check(sel.exclude, "exclude")
		if sel.all {
			keep = func(n string) bool { return !slices.Contains(sel.exclude, n) }
		} else {
			keep = func(n string) bool { return slices.Contains(sel.include, n) }
		}
	}
	var out []*Column
	for _, c := range mp.columns {
		if keep(c.Name) {
			out = append(out, cloneColumn(c))
		}
	}
	for _, c := range vp.columns {
		if i := slices.IndexFunc(out, func(o *Column) bool { return o.Name == c.Name }); i >= 0 {
			out[i] = c
		} else {
			out = append(out, c)
		}
	}
	return out
}

// describedSeed applies a seeds: entry to its seed.
func (l *loader) describedSeed(sp *seedProps) {
	s := l.seeds[sp.name]
	if s == nil {
		switch {
		case l.sql[sp.name] != nil:
			l.r.Add(sp.pos, "seed %q has no CSV file, but there is a model by that name; describe it under models: instead of seeds:", sp.name)
		default:
			msg := fmt.Sprintf("seed %q has no CSV file", sp.name)
			if sug := config.Suggest(sp.name, slices.Sorted(maps.Keys(l.seeds))); sug != "" {
				msg += fmt.Sprintf("; did you mean %s?", sug)
			} else {
				msg += fmt.Sprintf("; add %s.csv under %s or fix the name", sp.name, strings.Join(l.proj.Paths.Seeds, ", "))
			}
			l.r.Add(sp.pos, "%s", msg)
		}
		return
	}
	s.Description = sp.description
	s.Columns = sp.columns
	s.Tests = sp.tests
	s.Pos = sp.pos
	sp.meta.apply(&s.Config, &s.ColumnTypes)
	sp.config.apply(&s.Config, &s.ColumnTypes)
}
