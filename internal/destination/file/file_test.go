package file

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
)

var ctx = context.Background()

func newDest(t *testing.T, cfg map[string]any) *Dest {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func start(t *testing.T, d *Dest, sync, run string) {
	t.Helper()
	if err := d.Start(ctx, destination.RunInfo{Sync: sync, ID: run, Started: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, d *Dest, b destination.Batch) destination.Result {
	t.Helper()
	res, err := d.Write(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(b.Rows) {
		t.Fatalf("%d results for %d rows", len(res.Rows), len(b.Rows))
	}
	return res
}

func read(t *testing.T, path string) []destination.Row {
	t.Helper()
	rows, err := ReadFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func row(key string, a destination.Action, f map[string]any) destination.Row {
	return destination.Row{Key: key, Action: a, Fields: f}
}

func TestConformance(t *testing.T) {
	for _, format := range []string{"csv", "jsonl"} {
		for _, layout := range []string{"changes", "snapshot"} {
			t.Run(format+"_"+layout, func(t *testing.T) {
				dir := t.TempDir()
				d := newDest(t, map[string]any{"path": filepath.Join(dir, "{sync}", "{run}."+format), "layout": layout})
				runs := 1 // the suite starts run conformance-1
				var changes []destination.Row
				opts := destinationtest.Options{
					Readback: func(t *testing.T) []destination.Row {
						out := d.OutputPath()
						if err := d.Close(ctx); err != nil {
							t.Fatal(err)
						}
						got := read(t, out)
						runs++
						if err := d.Start(ctx, destination.RunInfo{Sync: "conformance", ID: fmt.Sprintf("conformance-%d", runs)}); err != nil {
							t.Fatal(err)
						}
						if layout == "snapshot" {
							return got
						}
						changes = append(changes, got...)
						return changes
					},
				}
				if format == "csv" {
					// CSV cells are text; Go's CSV reader turns \r\n inside a cell into \n.
					opts.Equal = func(sent, got any) bool {
						return strings.ReplaceAll(destination.FormatValue(sent), "\r\n", "\n") == destination.FormatValue(got)
					}
				}
				destinationtest.Run(t, d, opts)
			})
		}
	}
}

func TestNoFileUntilClose(t *testing.T) {
	dir := t.TempDir()
	d := newDest(t, map[string]any{"path": filepath.Join(dir, "out", "{sync}-{run}.csv")})
	start(t, d, "vip", "r1")
	write(t, d, destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{row("a", destination.Add, map[string]any{"x": int64(1)})}})
	out := filepath.Join(dir, "out", "vip-r1.csv")
	if d.OutputPath() != out {
		t.Fatalf("OutputPath = %q, want %q", d.OutputPath(), out)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("output exists before Close: %v", err)
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "out", "*.csv"))
	if len(csvs) != 0 {
		t.Fatalf("files that look complete before Close: %v", csvs)
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "_key,_action,x\na,add,1\n"; string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
	// No temporary files are left behind; the journal is gone.
	var left []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && p != out {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if err := d.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestJSONLChanges(t *testing.T) {
	dir := t.TempDir()
	d := newDest(t, map[string]any{"path": filepath.Join(dir, "{sync}.jsonl")})
	start(t, d, "vip", "r1")
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600, time.UTC)
	write(t, d, destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{
		row("a", destination.Add, map[string]any{"n": int64(1), "f": 1.5, "t": ts, "ok": true, "tags": []any{"x", "y"}}),
		row("b", destination.Remove, map[string]any{"n": nil}),
	}})
	write(t, d, destination.Batch{Sync: "vip", ID: "b2", Rows: []destination.Row{row("a", destination.Change, map[string]any{"n": int64(2)})}})
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "vip.jsonl"))
	want := `{"_key":"a","_action":"add","f":1.5,"n":1,"ok":true,"t":"2024-01-02T03:04:05.0000006Z","tags":["x","y"]}
{"_key":"b","_action":"remove","n":null}
{"_key":"a","_action":"change","n":2}
`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
}

func TestSnapshotAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	d := newDest(t, map[string]any{"path": filepath.Join(dir, "{sync}", "{run}.csv"), "layout": "snapshot"})
	start(t, d, "vip", "r1")
	write(t, d, destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{
		row("c", destination.Add, map[string]any{"tier": "gold"}),
		row("a", destination.Add, map[string]any{"tier": "silver"}),
		row("b", destination.Add, map[string]any{"tier": "bronze"}),
	}})
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start(t, d, "vip", "r2")
	write(t, d, destination.Batch{Sync: "vip", ID: "b2", Rows: []destination.Row{
		row("b", destination.Change, map[string]any{"tier": "gold", "score": int64(7)}),
		row("c", destination.Remove, nil),
	}})
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start(t, d, "vip", "r3") // no changes: the whole state again
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for run, want := range map[string]string{
		"r1": "_key,tier\na,silver\nb,bronze\nc,gold\n",
		"r2": "_key,score,tier\na,,silver\nb,7,gold\n",
		"r3": "_key,score,tier\na,,silver\nb,7,gold\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, "vip", run+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s:\n%s\nwant:\n%s", run, b, want)
		}
	}
}

func TestEmptyRunWritesHeader(t *testing.T) {
	dir := t.TempDir()
	d := newDest(t, map[string]any{"path": filepath.Join(dir, "{date}", "{sync}.csv")})
	start(t, d, "vip", "r1")
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "2024-05-06", "vip.csv"))
	if err != nil || string(b) != "_key,_action\n" {
		t.Errorf("empty run: %q, %v", b, err)
	}
}

// A run that crashed after acknowledging batches must not lose them: the next run carries them.
func TestCrashedRunIsCarriedOver(t *testing.T) {
	dir := t.TempDir()
	cfg := map[string]any{"path": filepath.Join(dir, "{sync}", "{run}.jsonl")}
	crashed := newDest(t, cfg)
	start(t, crashed, "vip", "r1")
	write(t, crashed, destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{row("a", destination.Add, map[string]any{"n": int64(1)})}})
	write(t, crashed, destination.Batch{Sync: "vip", ID: "b2", Rows: []destination.Row{row("b", destination.Add, map[string]any{"n": int64(2)})}})
	// The process dies while appending a third batch: a torn line, never acknowledged.
	journal := filepath.Join(dir, ".cdp-state", "vip.journal")
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"batch":"b3","rows":[{"key":"c","act`)
	f.Close()
	if _, err := os.Stat(filepath.Join(dir, "vip", "r1.jsonl")); !os.IsNotExist(err) {
		t.Fatal("the crashed run left an output file")
	}

	next := newDest(t, cfg)
	start(t, next, "vip", "r2")
	// The engine resends b2 (its commit was lost) and the batch that was in flight.
	write(t, next, destination.Batch{Sync: "vip", ID: "b2", Rows: []destination.Row{row("b", destination.Add, map[string]any{"n": int64(2)})}})
	write(t, next, destination.Batch{Sync: "vip", ID: "b3", Rows: []destination.Row{row("c", destination.Add, map[string]any{"n": int64(3)})}})
	if err := next.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range read(t, filepath.Join(dir, "vip", "r2.jsonl")) {
		keys = append(keys, r.Key)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, keys); diff != "" {
		t.Errorf("keys of the run after the crash (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("journal still there after Close: %v", err)
	}
}

// Without Start, the first Write starts a run named after the time, and a crashed run's rows
// are carried over then.
func TestWriteWithoutStart(t *testing.T) {
	dir := t.TempDir()
	cfg := map[string]any{"path": filepath.Join(dir, "{sync}-{run}.csv")}
	crashed := newDest(t, cfg)
	write(t, crashed, destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{row("a", destination.Add, nil)}})

	d := newDest(t, cfg)
	d.now = func() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC) }
	write(t, d, destination.Batch{Sync: "vip", ID: "b2", Rows: []destination.Row{row("b", destination.Add, nil)}})
	if _, err := d.Write(ctx, destination.Batch{Sync: "other", ID: "x", Rows: []destination.Row{row("z", destination.Add, nil)}}); err == nil {
		t.Error("a batch of another sync was accepted")
	}
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "vip-20240506T070809.010Z.csv"))
	if err != nil || string(b) != "_key,_action\na,add\nb,add\n" {
		t.Errorf("got %q, %v", b, err)
	}
}

func TestRejectedRows(t *testing.T) {
	dir := t.TempDir()
	d := newDest(t, map[string]any{"path": filepath.Join(dir, "{sync}.jsonl")})
	start(t, d, "vip", "r1")
	b := destination.Batch{Sync: "vip", ID: "b1", Rows: []destination.Row{
		row("ok", destination.Add, map[string]any{"n": int64(1)}),
		row("clash", destination.Add, map[string]any{"_action": "x"}),
		row("nan", destination.Add, map[string]any{"f": math.NaN()}),
	}}
	check := func(res destination.Result) {
		t.Helper()
		want := []destination.Outcome{destination.OK, destination.Rejected, destination.Rejected}
		for i, r := range res.Rows {
			if r.Outcome != want[i] || (r.Outcome == destination.Rejected && r.Reason == "") {
				t.Errorf("row %d: %v %q, want %v with a reason", i, r.Outcome, r.Reason, want[i])
			}
		}
	}
	check(write(t, d, b))
	check(write(t, d, b)) // the same batch again: the same outcomes, nothing written twice
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got := read(t, filepath.Join(dir, "vip.jsonl"))
	if len(got) != 1 || got[0].Key != "ok" {
		t.Errorf("file rows: %+v", got)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string // error substring; "" for none
	}{
		{map[string]any{"path": "exports/{sync}/{run}.csv"}, ""},
		{map[string]any{"type": "file", "path": "x/{sync}.dat", "format": "JSONL", "layout": "snapshot"}, ""},
		{map[string]any{}, `field "path": required; set path: exports/{sync}/{run}.csv`},
		{map[string]any{"path": "x/{sink}.csv"}, "unknown placeholder {sink}"},
		{map[string]any{"path": "x/{sync}.dat"}, `set format: csv or format: jsonl`},
		{map[string]any{"path": "x.csv", "format": "xml"}, `field "format": must be one of csv, jsonl`},
		{map[string]any{"path": "x.csv", "layout": "full"}, `field "layout": must be one of changes, snapshot`},
		{map[string]any{"path": "x.csv", "fromat": "csv"}, `field "fromat": unknown field of destination "file"; did you mean "format"?`},
		{map[string]any{"path": "${EXPORT_PATH}"}, "environment variable EXPORT_PATH is not set"},
		{map[string]any{"path": "exports/"}, "is a directory"},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want one containing %q", tc.cfg, err, tc.want)
		}
	}
	c, _ := ParseConfig(map[string]any{"path": "exports/{sync}/{run}.csv"})
	if c.StateDir != filepath.Join("exports", ".cdp-state") || c.Format != "csv" || c.Layout != "changes" {
		t.Errorf("defaults: %+v", c)
	}
	c, _ = ParseConfig(map[string]any{"path": "out.jsonl"})
	if c.StateDir != ".cdp-state" || c.Format != "jsonl" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := destination.Default.Spec("file")
	if !ok || spec.BatchSize != 10000 || spec.Concurrency != 1 || len(spec.Modes) != 4 {
		t.Fatalf("file in destination.Default: %+v, %v", spec, ok)
	}
	d, err := destination.Default.New("file", map[string]any{"path": filepath.Join(t.TempDir(), "{sync}.csv")})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.(destination.Closer); !ok {
		t.Error("file destination is not a Closer")
	}
	if _, err := destination.Default.New("file", map[string]any{}); err == nil {
		t.Error("no error for a config without path")
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{"vip_to_ads": "vip_to_ads", "../etc": ".._etc", "..": "_..", "a b/c": "a_b_c", "": "_"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
