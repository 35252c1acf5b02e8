package load

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// extensions a directory walk picks up, by source format (each also with .gz).
var extensions = map[string][]string{
	"segment": {".ndjson", ".jsonl", ".json"},
	"ndjson":  {".ndjson", ".jsonl", ".json"},
	"csv":     {".csv"},
	"parquet": {".parquet"},
}

// ExpandPaths turns the command line's files, directories and globs into a sorted list of
// files. A pattern or directory that matches nothing is an error: a typo must not look like a
// successful load of zero files.
func ExpandPaths(format string, args []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, arg := range args {
		if strings.ContainsAny(arg, "*?[") {
			matches, err := filepath.Glob(arg)
			if err != nil {
				return nil, fmt.Errorf("bad pattern %q: %w", arg, err)
			}
			n := 0
			for _, m := range matches {
				if info, err := os.Stat(m); err == nil && info.Mode().IsRegular() {
					add(m)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("no files match %q", arg)
			}
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", arg, unwrapPathErr(err))
		}
		if !info.IsDir() {
			add(arg)
			continue
		}
		n := 0
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && p != arg {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && hasDataExt(format, d.Name()) {
				add(p)
				n++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("directory %s has no %s files (looked for %s, optionally .gz)", arg, format, strings.Join(extensions[format], ", "))
		}
	}
	slices.Sort(files)
	return files, nil
}

func hasDataExt(format, name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	for _, ext := range extensions[format] {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func statFile(p string) (int64, error) {
	info, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
