package run

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

func loadEvents(t *testing.T, wh warehouse.Warehouse) {
	source(t, wh, "raw", "events", "select * from (values (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')) t(id, ts, v)")
}

// incremental is the dbt idiom: on incremental runs only rows newer than the target's newest.
func incremental(cfg func(*compile.Node), cols string) *compile.Node {
	n := model("inc", "incremental", "select "+cols+" from raw.events", "source:raw.events")
	n.IncrementalSQL = "select " + cols + " from raw.events\nwhere ts > (select max(ts) from main.inc)"
	if cfg != nil {
		cfg(n)
	}
	return n
}

func runInc(t *testing.T, wh warehouse.Warehouse, n *compile.Node, opts ...func(*Runner)) Result {
	t.Helper()
	return result(t, run(t, wh, []*compile.Node{n}, opts...), "model.inc")
}

func TestIncrementalAppendProcessesOnlyNewRows(t *testing.T) {
	wh := openWH(t)
	loadEvents(t, wh)
	r := runInc(t, wh, incremental(nil, "id, ts, v"))
	if r.Status != StatusSuccess || r.Rows != 3 || !strings.Contains(r.Message, "created incremental table") {
		t.Fatalf("first run: %+v", r)
	}
	appendSource(t, wh, "raw", "events", "values (4, 4, 'd'), (5, 5, 'e')")
	r = runInc(t, wh, incremental(nil, "id, ts, v"))
	// Only the two new rows were selected (the tmp table held them) and inserted.
	if r.Status != StatusSuccess || r.Rows != 2 || !strings.HasPrefix(r.Message, "inserted 2 rows (append)") {
		t.Fatalf("second run: %+v", r)
	}
	if got := queryStrings(t, wh, "select id from main.inc order by id"); !cmp.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("rows = %v", got)
	}
	if line := FormatResult(r); !strings.Contains(line, "OK inserted into incremental main.inc") || !strings.Contains(line, "[OK 2 rows in") {
		t.Errorf("line = %q", line)
	}
	// Nothing new: skipped.
	if r = runInc(t, wh, incremental(nil, "id, ts, v")); r.Status != StatusSkippedUnchanged {
		t.Errorf("third run: %+v", r)
	}
	// Full refresh rebuilds from the full SQL.
	mustExec(t, wh, "insert into main.inc values (99, 0, 'stray')")
	r = runInc(t, wh, incremental(nil, "id, ts, v"), fullRefresh)
	if r.Status != StatusSuccess || r.Rows != 5 || queryInt(t, wh, "select count(*) from main.inc") != 5 {
		t.Errorf("full refresh: %+v", r)
	}
	if got := queryInt(t, wh, "select count(*) from information_schema.tables where table_name like '%cdp_tmp'"); got != 0 {
		t.Errorf("%d tmp tables left", got)
	}
}

func TestIncrementalMerge(t *testing.T) {
	for _, strategy := range []string{"", "merge", "delete+insert"} {
		t.Run(strategy, func(t *testing.T) {
			wh := openWH(t)
			loadEvents(t, wh)
			cfg := func(n *compile.Node) {
				n.Config.UniqueKey = []string{"id"}
				n.Config.IncrementalStrategy = strategy
			}
			runInc(t, wh, incremental(cfg, "id, ts, v"))
			appendSource(t, wh, "raw", "events", "values (1, 10, 'a2'), (6, 11, 'f')")
			r := runInc(t, wh, incremental(cfg, "id, ts, v"))
			want := "merge"
			if strategy != "" {
				want = strategy
			}
			if r.Status != StatusSuccess || r.Rows != 2 || !strings.HasPrefix(r.Message, "inserted 2 rows ("+want+" on id)") {
				t.Fatalf("%+v", r)
			}
			if diff := cmp.Diff([]string{"1|10|a2", "2|2|b", "3|3|c", "6|11|f"}, queryStrings(t, wh, "select * from main.inc order by id")); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIncrementalCompositeKey(t *testing.T) {
	wh := openWH(t)
	source(t, wh, "raw", "events", "select * from (values (1, 'x', 1, 'a'), (1, 'y', 2, 'b')) t(id, region, ts, v)")
	cfg := func(n *compile.Node) {
		n.Config.UniqueKey = []string{"id", "region"}
		n.Config.IncrementalStrategy = "delete+insert"
	}
	runInc(t, wh, incremental(cfg, "id, region, ts, v"))
	appendSource(t, wh, "raw", "events", "values (1, 'x', 3, 'a2'), (2, 'x', 4, 'c')")
	if r := runInc(t, wh, incremental(cfg, "id, region, ts, v")); r.Status != StatusSuccess {
		t.Fatalf("%+v", r)
	}
	if diff := cmp.Diff([]string{"1|x|3|a2", "1|y|2|b", "2|x|4|c"}, queryStrings(t, wh, "select * from main.inc order by id, region")); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestIncrementalNullUniqueKey(t *testing.T) {
	wh := openWH(t)
	loadEvents(t, wh)
	cfg := func(n *compile.Node) { n.Config.UniqueKey = []string{"id"} }
	runInc(t, wh, incremental(cfg, "id, ts, v"))
	appendSource(t, wh, "raw", "events", "values (null, 10, 'x'), (null, 11, 'y'), (7, 12, 'z')")
	r := runInc(t, wh, incremental(cfg, "id, ts, v"))
	if r.Status != StatusError || !strings.HasPrefix(r.Error, "model inc (models/inc.sql:1): 2 new rows have a NULL unique_key (id)") {
		t.Errorf("%+v", r)
	}
	if got := queryInt(t, wh, "select count(*) from main.inc"); got != 3 {
		t.Errorf("target has %d rows after a refused merge, want 3", got)
	}
	if got := queryInt(t, wh, "select count(*) from information_schema.tables where table_name like '%cdp_tmp'"); got != 0 {
		t.Errorf("%d tmp tables left", got)
	}
}

func TestIncrementalSchemaChange(t *testing.T) {
	setup := func(t *testing.T, onChange string) (warehouse.Warehouse, func(cols string) Result) {
		wh := openWH(t)
		loadEvents(t, wh)
		cfg := func(n *compile.Node) { n.Config.OnSchemaChange = onChange }
		runInc(t, wh, incremental(cfg, "id, ts, v"))
		appendSource(t, wh, "raw", "events", "values (4, 4, 'd')")
		return wh, func(cols string) Result { return runInc(t, wh, incremental(cfg, cols)) }
	}
	t.Run("ignore", func(t *testing.T) {
		wh, build := setup(t, "")
		r := build("id, ts, 42 as extra")
		if r.Status != StatusSuccess || r.Rows != 1 || !strings.Contains(r.Message, "new columns ignored: extra; missing columns left NULL: v") {
			t.Fatalf("%+v", r)
		}
		if diff := cmp.Diff([]string{"1|1|a", "2|2|b", "3|3|c", "4|4|NULL"}, queryStrings(t, wh, "select * from main.inc order by id")); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
	t.Run("fail", func(t *testing.T) {
		wh, build := setup(t, "fail")
		r := build("id, ts, 42 as extra")
		want := "model inc (models/inc.sql:1): the columns changed (new column extra INTEGER, removed column v) and on_schema_change is fail"
		if r.Status != StatusError || !strings.HasPrefix(r.Error, want) {
			t.Fatalf("got %q\nwant %q...", r.Error, want)
		}
		if got := queryInt(t, wh, "select count(*) from main.inc"); got != 3 {
			t.Errorf("rows = %d", got)
		}
	})
	t.Run("append_new_columns", func(t *testing.T) {
		wh, build := setup(t, "append_new_columns")
		r := build("id, ts, v, 42 as extra")
		if r.Status != StatusSuccess || !strings.Contains(r.Message, "added columns: extra") {
			t.Fatalf("%+v", r)
		}
		if diff := cmp.Diff([]string{"1|1|a|NULL", "2|2|b|NULL", "3|3|c|NULL", "4|4|d|42"}, queryStrings(t, wh, "select * from main.inc order by id")); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

// An incremental run that finds nothing new changes no data, so it must not move the model's
// data version: the table downstream of it is skipped, not rebuilt.
func TestIncrementalWithNoNewRowsKeepsDownstreamUnchanged(t *testing.T) {
	wh := openWH(t)
	loadEvents(t, wh)
	inc := incremental(nil, "id, ts, v")
	down := model("down", "table", "select count(*) as n from main.inc", "model.inc")
	res := run(t, wh, []*compile.Node{inc, down})
	if r := result(t, res, "model.down"); r.Status != StatusSuccess {
		t.Fatalf("first run: %+v", r)
	}
	// A new row in the source that the incremental filter does not select (ts not newer).
	appendSource(t, wh, "raw", "events", "values (7, 0, 'old')")
	res = run(t, wh, []*compile.Node{incremental(nil, "id, ts, v"), model("down", "table", "select count(*) as n from main.inc", "model.inc")})
	if r := result(t, res, "model.inc"); r.Status != StatusSuccess || r.Rows != 0 {
		t.Fatalf("incremental: %+v", r)
	}
	if r := result(t, res, "model.down"); r.Status != StatusSkippedUnchanged {
		t.Errorf("downstream of an incremental that inserted nothing: %+v, want skipped_unchanged", r)
	}
}
