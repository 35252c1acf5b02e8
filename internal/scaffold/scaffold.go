package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// all: so that .gitignore and the .gitkeep files of the empty folders are embedded too.
//
//go:embed all:template
var templateFS embed.FS

const templateRoot = "template"

// tmplExt marks files rendered with text/template; the suffix is dropped from the written name.
// Only cdp.yaml needs it, and keeping the others verbatim lets tests compare them byte for byte.
const tmplExt = ".tmpl"

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// Write creates a new project named name in dir (created if missing) and returns the files it
// wrote, relative to dir with forward slashes, sorted. An empty name is derived from dir's base
// name. It refuses a dir that already has a cdp.yaml, and any file of the template that already
// exists, before writing anything; an existing .gitignore is kept and gets only the missing lines.
func Write(dir string, name string) ([]string, error) {
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		name = nameFrom(filepath.Base(abs))
	}
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("project name %q is not valid: use letters, digits, _ and -, starting with a letter or _", name)
	}
	files, err := render(name)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "cdp.yaml")); err == nil {
		return nil, fmt.Errorf("%s already has a cdp.yaml; cdp init only creates new projects, so pick another directory", dir)
	}
	var clash []string
	for rel := range files {
		if rel == ".gitignore" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			clash = append(clash, rel)
		}
	}
	if len(clash) > 0 {
		slices.Sort(clash)
		return nil, fmt.Errorf("%s already has %s; move them away or run cdp init in an empty directory", dir, strings.Join(clash, ", "))
	}
	written := make([]string, 0, len(files))
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		if err := writeFile(dir, rel, files[rel]); err != nil {
			return written, err
		}
		written = append(written, rel)
	}
	return written, nil
}

// render returns every template file by its path in the new project.
func render(name string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(templateFS, templateRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, templateRoot+"/")
		if strings.HasSuffix(rel, tmplExt) {
			rel = strings.TrimSuffix(rel, tmplExt)
			t, err := template.New(rel).Option("missingkey=error").Parse(string(data))
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := t.Execute(&b, struct{ Name string }{name}); err != nil {
				return err
			}
			data = b.Bytes()
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scaffold template: %w", err)
	}
	return files, nil
}

func writeFile(dir, rel string, data []byte) error {
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if rel == ".gitignore" {
		old, err := os.ReadFile(dst)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err == nil {
			data = mergeLines(old, data)
		}
	}
	return os.WriteFile(dst, data, 0o644)
}

// mergeLines appends to old the lines of add it lacks, so `cdp init` in an existing repository
// keeps that repository's ignore rules.
func mergeLines(old, add []byte) []byte {
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	out := string(old)
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	for _, l := range strings.SplitAfter(string(add), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !have[t] {
			out += t + "\n"
		}
	}
	return []byte(out)
}

// nameFrom turns a directory name into a project name: invalid characters become _.
func nameFrom(base string) string {
	var b strings.Builder
	for i, c := range base {
		ok := c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if i == 0 && (c == '-' || '0' <= c && c <= '9') {
			b.WriteByte('_')
		}
		if ok {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "project"
	}
	return b.String()
}
