package config

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// Error is one problem in a project file: where it is and what to do about it.
type Error struct {
	Pos Pos    // zero when the problem is not at one place in a file
	Msg string // what is wrong and how to fix it
}

func (e *Error) Error() string {
	if e.Pos.File == "" {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Errors is every problem found in a project, one per line in file and line order. Parse and
// Validate report them all at once so a broken project is fixed in one pass, not one per run.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es *Errors) add(pos Pos, format string, args ...any) {
	*es = append(*es, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil for no errors (never a typed nil) and otherwise the sorted list.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return es
}

// ErrNoProject matches (errors.Is) the error Load and Parse return when the directory has no
// cdp.yaml, so the CLI can tell "not a project" from "a broken project".
var ErrNoProject = errors.New("no cdp.yaml")

type noProjectError struct{ dir string }

func (e *noProjectError) Error() string {
	return fmt.Sprintf("no cdp.yaml in %s: run \"cdp init %s\" to create a project, or pass --project-dir", e.dir, e.dir)
}

func (e *noProjectError) Is(target error) bool {
	return target == ErrNoProject || target == fs.ErrNotExist
}
