package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cdp-dev/cdp/internal/cli"
)

// TestMain makes the test binary double as cdp: testscript copies it into a directory on $PATH
// under the name "cdp", and running it by that name runs cli.Main. The Go tests that need cdp as
// a real process (lock_test.go, kill_test.go) run that same copy.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cdp": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end user stories in testdata/script/*.txtar: each is a shell-like
// script of cdp commands with their expected output, run in a fresh temporary directory.
//
// Besides testscript's builtins, the scripts can use the commands of scriptCmds.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Cmds:                scriptCmds,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", env.WorkDir)
			// Stories that use the repository's own standard models copy them from $REPO;
			// generated events end $TODAY so time-windowed audiences have members.
			repo, err := filepath.Abs("../..")
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			env.Setenv("TODAY", time.Now().UTC().Format("2006-01-02"))
			return nil
		},
	})
}

var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exitcode":  cmdExitcode,
	"unescape":  cmdUnescape,
	"gzip":      cmdGzip,
	"jsonval":   cmdJSONVal,
	"jsonenv":   cmdJSONEnv,
	"linecount": cmdLinecount,
	"eq":        cmdEq,
}

// exitcode N PROG ARGS... runs PROG like exec and fails unless it exits with status N. stdout
// and stderr are kept for the commands that follow, as after exec.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

var hexEscape = regexp.MustCompile(`\\x([0-9a-fA-F]{2})`)

// unescape SRC DST copies SRC to DST with every \xHH replaced by the byte 0xHH, so a script can
// hold bytes a txtar archive cannot (invalid UTF-8). JSON has no \x escape, so JSON text passes
// through unchanged.
func cmdUnescape(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unescape SRC DST")
	}
	src := []byte(ts.ReadFile(args[0]))
	out := hexEscape.ReplaceAllFunc(src, func(m []byte) []byte {
		b, _ := hex.DecodeString(string(m[2:]))
		return b
	})
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), out, 0o644))
}

// gzip SRC DST writes a gzip'd copy of SRC to DST.
func cmdGzip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gzip SRC DST")
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(ts.ReadFile(args[0])))
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o644))
}

// jsonval FILE [PATH OP VALUE]... parses FILE (or stdout/stderr) as one JSON document, failing
// if it is not valid JSON, and checks each assertion:
//
//	loaded=3                      the value at a dotted path (array indexes are numbers)
//	per_file.0.status=skipped     a string, without quotes (or with them: status="skipped")
//	0.x=2.5                       other values as compact JSON; the string "2.5" does not match
//	quarantined>0                 numeric comparison; also >=, <, <=, !=
//	loaded+duplicates+quarantined=$N   a sum of numeric paths
//
// With !, jsonval succeeds only if FILE is not valid JSON (and takes no assertions).
func cmdJSONVal(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: jsonval FILE [PATH OP VALUE]...")
	}
	doc, err := decodeJSON(ts.ReadFile(args[0]))
	if neg {
		if len(args) > 1 {
			ts.Fatalf("usage: ! jsonval FILE")
		}
		if err == nil {
			ts.Fatalf("%s is valid JSON", args[0])
		}
		return
	}
	if err != nil {
		ts.Fatalf("%s is not valid JSON: %v", args[0], err)
	}
	for _, a := range args[1:] {
		ts.Check(checkJSON(doc, a))
	}
}

// jsonenv FILE VAR=PATH... sets $VAR to the value at PATH in the JSON document FILE (strings
// without quotes, other values as compact JSON), for later commands to compare against.
func cmdJSONEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: jsonenv FILE VAR=PATH...")
	}
	doc, err := decodeJSON(ts.ReadFile(args[0]))
	if err != nil {
		ts.Fatalf("%s is not valid JSON: %v", args[0], err)
	}
	for _, a := range args[1:] {
		name, path, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("bad argument %q: want VAR=PATH", a)
		}
		v, err := jsonPath(doc, path)
		ts.Check(err)
		ts.Setenv(name, jsonText(v))
	}
}

func decodeJSON(text string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return doc, nil
}

// jsonMatches says whether v is want: a string matches want as written, or want in JSON quotes;
// any other value matches its compact JSON. So the string "1" matches only `"1"`, never `1`.
func jsonMatches(v any, want string) bool {
	if s, ok := v.(string); ok {
		if strings.HasPrefix(want, `"`) {
			b, _ := json.Marshal(s)
			return string(b) == want
		}
		var lit any
		if json.Unmarshal([]byte(want), &lit) == nil {
			if _, isString := lit.(string); !isString {
				return false // want is a number, true, false, null, an object or an array
			}
		}
		return s == want
	}
	return jsonText(v) == want
}

// jsonText is how jsonval and jsonenv show a value: strings as they are, the rest as JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var assertion = regexp.MustCompile(`^([^=<>!]+)(=|!=|>=|<=|>|<)(.*)$`)

func checkJSON(doc any, a string) error {
	m := assertion.FindStringSubmatch(a)
	if m == nil {
		return fmt.Errorf("bad assertion %q: want PATH OP VALUE", a)
	}
	paths, op, want := strings.Split(m[1], "+"), m[2], m[3]
	if len(paths) == 1 && (op == "=" || op == "!=") {
		v, err := jsonPath(doc, paths[0])
		if err != nil {
			return err
		}
		if jsonMatches(v, want) != (op == "=") {
			got, _ := json.Marshal(v)
			return fmt.Errorf("%s is %s, want %s%s", paths[0], got, op, want)
		}
		return nil
	}
	var sum float64
	for _, p := range paths {
		v, err := jsonPath(doc, p)
		if err != nil {
			return err
		}
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%s is %v, not a number", p, v)
		}
		f, _ := n.Float64()
		sum += f
	}
	w, err := strconv.ParseFloat(want, 64)
	if err != nil {
		return fmt.Errorf("%s: %q is not a number", a, want)
	}
	ok := map[string]bool{"=": sum == w, "!=": sum != w, ">": sum > w, ">=": sum >= w, "<": sum < w, "<=": sum <= w}[op]
	if !ok {
		return fmt.Errorf("%s is %v, want %s%s", m[1], sum, op, want)
	}
	return nil
}

func jsonPath(doc any, path string) (any, error) {
	v := doc
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[k]
			if lk := looseKey(x, k); !ok && lk != "" {
				e, ok = x[lk]
			}
			if !ok {
				return nil, fmt.Errorf("%s: no key %q", path, k)
			}
			v = e
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("%s: no element %q in an array of %d", path, k, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("%s: %q is inside a %T, not an object or array", path, k, v)
		}
	}
	return v, nil
}

// looseKey finds the key of m that equals k ignoring case and underscores (truth_file matches
// TruthFile), so a script does not care whether a summary spells its keys in Go or JSON style.
func looseKey(m map[string]any, k string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	for key := range m {
		if norm(key) == norm(k) {
			return key
		}
	}
	return ""
}

// eq A B fails unless A and B are the same string (typically two expanded variables).
func cmdEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: eq A B")
	}
	if (args[0] == args[1]) == neg {
		if neg {
			ts.Fatalf("both are %q", args[0])
		}
		ts.Fatalf("%q != %q", args[0], args[1])
	}
}

// linecount VAR PATH... sets $VAR to the number of non-blank lines in the files (directories:
// every .ndjson, .jsonl and .json file under them, gzip'd or not, decompressed), i.e. the rows a
// load of the same paths reads.
func cmdLinecount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: linecount VAR PATH...")
	}
	n := 0
	for _, p := range args[1:] {
		c, err := countLines(ts.MkAbs(p))
		ts.Check(err)
		n += c
	}
	ts.Setenv(args[0], strconv.Itoa(n))
}

func countLines(path string) (int, error) {
	n := 0
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if p != path && !strings.HasSuffix(name, ".ndjson") && !strings.HasSuffix(name, ".jsonl") &&
			!strings.HasSuffix(name, ".json") {
			return nil
		}
		c, err := nonBlankLines(p)
		n += c
		return err
	})
	return n, err
}

func nonBlankLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	return n, sc.Err()
}
