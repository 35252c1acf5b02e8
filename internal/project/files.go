package project

import (
	"regexp"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
)

// sqlFile is a .sql file under a model path, before the property files say what it is.
type sqlFile struct {
	path    string
	root    string // the model path it was found under
	name    string // base name without .sql
	sql     string
	claimed string // the model ID it became, "" while unclaimed
}

func (l *loader) modelFile(root, name string) {
	sql, ok := l.readFile(name)
	if !ok {
		return
	}
	f := &sqlFile{path: name, root: root, name: baseName(name), sql: sql}
	if prev, dup := l.sql[f.name]; dup {
		l.r.Add(config.Pos{File: name, Line: 1}, "model name %q is used by two files, %s and %s; rename one (model names are unique across folders, so that ref('%s') names one model)", f.name, prev.path, name, f.name)
		return
	}
	l.sql[f.name] = f
}

func (l *loader) seedFile(root, name string) {
	s := &Seed{
		Name:   baseName(name),
		Path:   name,
		Config: Config{Enabled: true},
		Pos:    config.Pos{File: name, Line: 1},
	}
	if prev, dup := l.seeds[s.Name]; dup {
		l.r.Add(s.Pos, "seed name %q is used by two files, %s and %s; rename one (seed names are unique across folders, so that ref('%s') names one seed)", s.Name, prev.Path, name, s.Name)
		return
	}
	applyFolders(l.seedTree(), l.fqn(kindSeed, root, name, s.Name), &s.Config, &s.ColumnTypes)
	l.seeds[s.Name] = s
}

func (l *loader) seedTree() *folderConfig {
	if l.dbt == nil {
		return nil
	}
	return l.dbt.seeds
}

func (l *loader) modelTree() *folderConfig {
	if l.dbt == nil {
		return nil
	}
	return l.dbt.models
}

// fqn is a resource's path in dbt_project.yml's models: or seeds: tree: the project's name,
// the folders below the resource path, the name, and extra parts (a version). It records the
// path in l.existing, for the suggestions of unusedFolders.
func (l *loader) fqn(kind resourceKind, root, file, name string, extra ...string) []string {
	if l.dbt == nil {
		return nil
	}
	parts := slices.Concat([]string{l.dbt.name}, folders(root, file), []string{name}, extra)
	where := "models"
	if kind == kindSeed {
		where = "seeds"
	}
	for _, p := range parts {
		if !slices.Contains(l.existing[where], p) {
			l.existing[where] = append(l.existing[where], p)
		}
		where += "." + p
	}
	return parts
}

var (
	testMacroDef  = regexp.MustCompile(`\{%-?\s*test\s+([A-Za-z_]\w*)\s*\(`)
	testMacroName = regexp.MustCompile(`\{%-?\s*macro\s+test_([A-Za-z_]\w*)\s*\(`)
)

func (l *loader) macro(name string) {
	src, ok := l.readFile(name)
	if !ok {
		return
	}
	l.proj.Macros = append(l.proj.Macros, &MacroFile{Path: name, Source: src})
	for _, re := range []*regexp.Regexp{testMacroDef, testMacroName} {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			l.testMacros[m[1]] = true
		}
	}
}

func (l *loader) singularTest(name string) {
	sql, ok := l.readFile(name)
	if !ok {
		return
	}
	t := &SingularTest{Name: baseName(name), Path: name, SQL: sql}
	if prev, dup := l.singular[t.Name]; dup {
		l.r.Add(config.Pos{File: name, Line: 1}, "test name %q is used by two files, %s and %s; rename one", t.Name, prev.Path, name)
		return
	}
	l.singular[t.Name] = t
}

var (
	docsStart = regexp.MustCompile(`\{%-?\s*docs\s+([^\s%]*)\s*-?%\}`)
	docsEnd   = regexp.MustCompile(`\{%-?\s*enddocs\s*-?%\}`)
	docRefRe  = regexp.MustCompile(`\bdoc\(\s*(?:['"][^'"]*['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)`)
)

// docRef is a description that uses doc(), checked once every docs block is read.
type docRef struct {
	text string
	pos  config.Pos
}

// docsFile reads the {% docs name %}...{% enddocs %} blocks of a Markdown file.
func (l *loader) docsFile(name string) {
	src, ok := l.readFile(name)
	if !ok {
		return
	}
	rest, offset := src, 0
	for {
		loc := docsStart.FindStringSubmatchIndex(rest)
		if loc == nil {
			return
		}
		block := rest[loc[2]:loc[3]]
		pos := config.Pos{File: name, Line: 1 + strings.Count(src[:offset+loc[0]], "\n")}
		body := rest[loc[1]:]
		end := docsEnd.FindStringIndex(body)
		if end == nil {
			l.r.Add(pos, "docs block %q is not closed; end it with {%% enddocs %%}", block)
			return
		}
		switch {
		case !config.IsIdent(block):
			l.r.Add(pos, "docs block name %q is not valid; use letters, digits and _, starting with a letter or _", block)
		default:
			if first, dup := l.docs[block]; dup {
				l.r.Add(pos, "docs block %q is defined twice, here and at %s; rename or remove one", block, first)
				break
			}
			l.docs[block] = pos
			l.proj.Docs[block] = strings.TrimSpace(body[:end[0]])
		}
		consumed := loc[1] + end[1]
		rest, offset = rest[consumed:], offset+consumed
	}
}

// checkDocRefs reports doc('x') uses that no docs block defines.
func (l *loader) checkDocRefs() {
	names := make([]string, 0, len(l.docs))
	for n := range l.docs {
		names = append(names, n)
	}
	for _, ref := range l.docRefs {
		for _, m := range docRefRe.FindAllStringSubmatch(ref.text, -1) {
			if _, ok := l.docs[m[1]]; ok {
				continue
			}
			if s := config.Suggest(m[1], names); s != "" {
				l.r.Add(ref.pos, "description uses doc('%s'), which no docs block defines; did you mean %q?", m[1], s)
			} else {
				l.r.Add(ref.pos, "description uses doc('%s'), which no docs block defines; add {%% docs %s %%}...{%% enddocs %%} to a .md file under %s", m[1], m[1], strings.Join(l.proj.Paths.Models, ", "))
			}
		}
	}
}
