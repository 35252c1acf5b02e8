package run

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// shop is a small project: a raw source, a view, an ephemeral model and two tables.
func shop() []*compile.Node {
	return []*compile.Node{
		model("stg_orders", "view", "select id, customer, amount from raw.orders where amount > 0", "source:raw.orders"),
		model("big", "ephemeral", "select * from main.stg_orders where amount >= 10", "model.stg_orders"),
		model("customers", "table", "with big as (select * from main.stg_orders where amount >= 10)\nselect customer, count(*) as orders, sum(amount) as total from big group by customer", "model.big"),
		model("top", "table", "select customer from main.customers order by total desc limit 1", "model.customers"),
	}
}

func loadShop(t *testing.T, wh warehouse.Warehouse) {
	source(t, wh, "raw", "orders", "select * from (values (1, 'ann', 10), (2, 'bob', 25), (3, 'ann', 30), (4, 'cy', 0), (5, 'cy', 5)) t(id, customer, amount)")
}

func TestMaterializations(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	rec := &recorder{}
	nodes := shop()
	sum := run(t, wh, nodes, func(r *Runner) { r.Reporter = rec })
	want := map[string]Status{"model.stg_orders": StatusSuccess, "model.customers": StatusSuccess, "model.top": StatusSuccess}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s\n%+v", diff, sum.Results)
	}
	if diff := cmp.Diff([]string{"ann|2|40", "bob|1|25"}, queryStrings(t, wh, "select * from main.customers order by 1")); diff != "" {
		t.Errorf("customers (-want +got):\n%s", diff)
	}
	if got := queryStrings(t, wh, "select * from main.top"); !cmp.Equal(got, []string{"ann"}) {
		t.Errorf("top = %v", got)
	}
	if got := queryStrings(t, wh, "select table_name, table_type from information_schema.tables where table_schema = 'main' order by 1"); !cmp.Equal(got, []string{"customers|BASE TABLE", "stg_orders|VIEW", "top|BASE TABLE"}) {
		t.Errorf("relations = %v (no tmp tables, no ephemeral)", got)
	}
	if r := result(t, sum, "model.customers"); r.Rows != 2 || r.Relation != "main.customers" || r.Index != 2 || r.Total != 3 {
		t.Errorf("customers result = %+v", r)
	}
	if sum.Counts != (Counts{Success: 3}) || !sum.OK() {
		t.Errorf("counts = %+v", sum.Counts)
	}
	// The reporter saw every reported node start and finish; the ephemeral one never.
	if len(rec.started) != 3 || len(rec.done) != 3 {
		t.Errorf("reporter saw started %v, done %d", rec.started, len(rec.done))
	}
	line := FormatResult(result(t, sum, "model.customers"))
	if !strings.HasPrefix(line, "2 of 3 OK created table main.customers ...") || !strings.Contains(line, "[OK 2 rows in ") {
		t.Errorf("line = %q", line)
	}
	if len(line) != lineWidth {
		t.Errorf("line is %d wide, want %d: %q", len(line), lineWidth, line)
	}
	// Every build bumped its relation's data version and recorded its state.
	versions, err := state.DataVersionsAll(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"main.stg_orders", "main.customers", "main.top"} {
		if versions[rel] != 1 {
			t.Errorf("data version of %s = %d, want 1", rel, versions[rel])
		}
	}
	states, err := state.LoadModelStates(context.Background(), wh)
	if err != nil {
		t.Fatal(err)
	}
	// customers reads raw.orders through the view and the ephemeral model.
	if diff := cmp.Diff(map[string]int64{"main.stg_orders": 1, "raw.orders": 1}, states["model.customers"].InputVersions); diff != "" {
		t.Errorf("customers input versions (-want +got):\n%s", diff)
	}
	if states["model.top"].Fingerprint != nodes[3].Fingerprint {
		t.Errorf("top state = %+v", states["model.top"])
	}
}

func TestSecondRunDoesNothing(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	run(t, wh, shop())
	before := queryInt(t, wh, "select count(*) from _cdp.data_versions")
	sum := run(t, wh, shop())
	for _, r := range sum.Results {
		if r.Status != StatusSkippedUnchanged {
			t.Errorf("%s: %s (%s), want skipped_unchanged", r.ID, r.Status, r.Message)
		}
	}
	if after := queryInt(t, wh, "select count(*) from _cdp.data_versions"); after != before {
		t.Errorf("data versions went from %d to %d rows on a run that changed nothing", before, after)
	}
	if got := FormatSummary(sum); !strings.Contains(got, "3 unchanged.") || !strings.Contains(got, "Nothing changed since the last run.") {
		t.Errorf("summary = %q", got)
	}
	if got := FormatResult(result(t, sum, "model.top")); !strings.HasPrefix(got, "3 of 3 SKIP unchanged table main.top ..") {
		t.Errorf("line = %q", got)
	}
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"run_id":`, `"counts":{"success":0,"skipped_unchanged":3,`, `"status":"skipped_unchanged"`, `"message":"inputs unchanged"`, `"relation":"main.top"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s: %s", key, js)
		}
	}
}

// chain: raw.a -> a -> b; raw.c -> c; raw.a -> v (view) -> d.
func chain() []*compile.Node {
	return []*compile.Node{
		model("a", "table", "select x from raw.a", "source:raw.a"),
		model("b", "table", "select x * 2 as y from main.a", "model.a"),
		model("c", "table", "select x from raw.c", "source:raw.c"),
		model("v", "view", "select x + 1 as x from raw.a", "source:raw.a"),
		model("d", "table", "select sum(x) as s from main.v", "model.v"),
	}
}

func loadChain(t *testing.T, wh warehouse.Warehouse) {
	source(t, wh, "raw", "a", "select 1 as x")
	source(t, wh, "raw", "c", "select 10 as x")
}

func TestNewInputDataRebuildsOnlyDownstream(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain())
	appendSource(t, wh, "raw", "a", "select 2")
	sum := run(t, wh, chain())
	want := map[string]Status{
		"model.a": StatusSuccess, "model.b": StatusSuccess, "model.c": StatusSkippedUnchanged,
		// The view is not rebuilt (its definition did not change), but d, which reads raw.a
		// through it, is.
		"model.v": StatusSkippedUnchanged, "model.d": StatusSuccess,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	if got := result(t, sum, "model.a").Message; !strings.Contains(got, "input changed: raw.a") {
		t.Errorf("a's message = %q", got)
	}
	if got := queryStrings(t, wh, "select s from main.d"); !cmp.Equal(got, []string{"5"}) {
		t.Errorf("d = %v, want 5", got)
	}
	if got := queryStrings(t, wh, "select y from main.b order by 1"); !cmp.Equal(got, []string{"2", "4"}) {
		t.Errorf("b = %v", got)
	}
	// And then nothing again.
	for id, st := range statuses(run(t, wh, chain())) {
		if st != StatusSkippedUnchanged {
			t.Errorf("third run: %s %s", id, st)
		}
	}
}

func TestFingerprintChangeRebuildsItAndDownstream(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain())
	nodes := chain()
	nodes[0].SQL = "select x + 100 as x from raw.a"
	sum := run(t, wh, nodes)
	want := map[string]Status{
		"model.a": StatusSuccess, "model.b": StatusSuccess, "model.c": StatusSkippedUnchanged,
		"model.v": StatusSkippedUnchanged, "model.d": StatusSkippedUnchanged,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	if got := result(t, sum, "model.a").Message; !strings.Contains(got, "definition changed") {
		t.Errorf("a's message = %q", got)
	}
	// A view's definition change rebuilds the view and what reads it.
	nodes = chain()
	nodes[0].SQL = "select x + 100 as x from raw.a"
	nodes[3].SQL = "select x + 2 as x from raw.a"
	sum = run(t, wh, nodes)
	want = map[string]Status{
		"model.a": StatusSkippedUnchanged, "model.b": StatusSkippedUnchanged, "model.c": StatusSkippedUnchanged,
		"model.v": StatusSuccess, "model.d": StatusSuccess,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Fatalf("statuses after changing the view (-want +got):\n%s", diff)
	}
	if got := queryStrings(t, wh, "select s from main.d"); !cmp.Equal(got, []string{"3"}) {
		t.Errorf("d = %v, want 3", got)
	}
}

func TestFullRefreshRebuildsEverything(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain())
	sum := run(t, wh, chain(), fullRefresh)
	for _, r := range sum.Results {
		if r.Status != StatusSuccess || r.Message == "" || !strings.Contains(r.Message, "full refresh") {
			t.Errorf("%s: %s %q", r.ID, r.Status, r.Message)
		}
	}
}

func TestDroppedRelationIsRebuilt(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain())
	mustExec(t, wh, "drop table main.c")
	sum := run(t, wh, chain())
	if r := result(t, sum, "model.c"); r.Status != StatusSuccess || !strings.Contains(r.Message, "new") {
		t.Errorf("c = %+v", r)
	}
	if got := result(t, sum, "model.a").Status; got != StatusSkippedUnchanged {
		t.Errorf("a = %s", got)
	}
}

func TestFailedBuildKeepsOldTable(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain())
	stateBefore := queryStrings(t, wh, "select node_id, fingerprint, input_versions from _cdp.model_state order by 1")

	nodes := chain()
	nodes[0].SQL = "select amount from raw.a"
	sum := run(t, wh, nodes)
	want := map[string]Status{
		"model.a": StatusError, "model.b": StatusSkippedUpstreamFailed, "model.c": StatusSkippedUnchanged,
		"model.v": StatusSkippedUnchanged, "model.d": StatusSkippedUnchanged,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	a := result(t, sum, "model.a")
	if !strings.HasPrefix(a.Error, `model a (models/a.sql:1): Binder Error: Referenced column "amount" not found`) {
		t.Errorf("error = %q", a.Error)
	}
	if b := result(t, sum, "model.b"); b.Message != "skipped: upstream a failed" {
		t.Errorf("b's message = %q", b.Message)
	}
	if got := queryStrings(t, wh, "select x from main.a"); !cmp.Equal(got, []string{"1"}) {
		t.Errorf("old table after a failed build = %v", got)
	}
	if got := queryStrings(t, wh, "select node_id, fingerprint, input_versions from _cdp.model_state order by 1"); !cmp.Equal(got, stateBefore) {
		t.Errorf("model state changed by a failed build:\n%s", cmp.Diff(stateBefore, got))
	}
	if got := queryInt(t, wh, "select count(*) from information_schema.tables where table_name like '%__cdp_tmp'"); got != 0 {
		t.Errorf("%d tmp tables left", got)
	}
	if sum.OK() || sum.Counts.Error != 1 || sum.Counts.SkippedUpstreamFailed != 1 {
		t.Errorf("counts = %+v", sum.Counts)
	}
	if got := FormatSummary(sum); !strings.Contains(got, "\n\nERROR model a (models/a.sql:1): Binder Error") {
		t.Errorf("summary = %q", got)
	}
	// Fixed, the next run builds it and its child.
	sum = run(t, wh, chain())
	if got := statuses(sum); got["model.a"] != StatusSkippedUnchanged || got["model.b"] != StatusSkippedUnchanged {
		// The original SQL is what is built, so nothing changed since.
		t.Errorf("after reverting: %v", got)
	}
}

func TestContract(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	contracted := func(sql string) *compile.Node {
		n := model("a", "table", sql, "source:raw.a")
		n.Config.ContractEnforced = true
		n.Model.Columns = columns("x:int", "name:string", "at:timestamp")
		return n
	}
	sum := run(t, wh, []*compile.Node{contracted("select x, 'n' as name, timestamp '2024-01-01' as at from raw.a")})
	if r := result(t, sum, "model.a"); r.Status != StatusSuccess {
		t.Fatalf("contract met: %+v", r)
	}
	// x is now VARCHAR, name is gone, extra is new, at is a timestamptz.
	sum = run(t, wh, []*compile.Node{contracted("select 'one' as x, 1 as extra, timestamptz '2024-01-01' as at from raw.a")})
	r := result(t, sum, "model.a")
	want := "model a (models/a.sql:1): contract not met: column x is VARCHAR but the contract says int; missing column name (string); column at is TIMESTAMPTZ but the contract says timestamp; extra column extra (INTEGER); fix the SQL or the columns in the model's .yml (the previous data is kept)"
	if r.Status != StatusError || r.Error != want {
		t.Errorf("contract broken:\n got %s %q\nwant %q", r.Status, r.Error, want)
	}
	if got := queryStrings(t, wh, "select x, name from main.a"); !cmp.Equal(got, []string{"1|n"}) {
		t.Errorf("old table = %v", got)
	}
	// Views check their contract too, without creating anything.
	v := model("v", "view", "select 1 as x", "source:raw.a")
	v.Config.ContractEnforced = true
	v.Model.Columns = columns("y:bigint")
	r = result(t, run(t, wh, []*compile.Node{v}), "model.v")
	if r.Status != StatusError || !strings.Contains(r.Error, "contract not met: missing column y (bigint); extra column x (INTEGER)") {
		t.Errorf("view contract: %+v", r)
	}
	if _, err := wh.Columns(context.Background(), warehouse.Relation{Schema: "main", Name: "v"}); !errors.Is(err, warehouse.ErrNotFound) {
		t.Errorf("view created despite its contract: %v", err)
	}
}

func TestSameType(t *testing.T) {
	for _, tc := range []struct {
		actual, declared string
		want             bool
	}{
		{"BIGINT", "int", true}, {"INTEGER", "bigint", true}, {"BIGINT", "Integer", true},
		{"VARCHAR", "string", true}, {"VARCHAR", "text", true}, {"VARCHAR", "varchar(20)", true},
		{"DOUBLE", "float", true}, {"FLOAT", "double", true},
		{"TIMESTAMP", "timestamp", true}, {"TIMESTAMPTZ", "timestamp with time zone", true},
		{"TIMESTAMP", "timestamptz", false}, {"TIMESTAMPTZ", "timestamp", false},
		{"DECIMAL(18,2)", "numeric", true}, {"DECIMAL(18,2)", "decimal(18, 2)", true}, {"DECIMAL(18,2)", "decimal(10,2)", false},
		{"VARCHAR", "int", false}, {"BOOLEAN", "bool", true}, {"DATE", "date", true}, {"DATE", "timestamp", false},
		{"VARCHAR[]", "varchar[]", true}, {"DOUBLE", "decimal", false},
	} {
		if got := sameType(tc.actual, tc.declared); got != tc.want {
			t.Errorf("sameType(%q, %q) = %v, want %v", tc.actual, tc.declared, got, tc.want)
		}
	}
}

func TestMaterializationChange(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	nodes := chain()
	run(t, wh, nodes)
	// a: table -> view; v: view -> table.
	nodes = chain()
	nodes[0].Config.Materialized = "view"
	nodes[3].Config.Materialized = "table"
	sum := run(t, wh, nodes)
	for _, id := range []string{"model.a", "model.v", "model.b", "model.d"} {
		if r := result(t, sum, id); r.Status != StatusSuccess {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if got := queryStrings(t, wh, "select table_name, table_type from information_schema.tables where table_schema = 'main' and table_name in ('a', 'v') order by 1"); !cmp.Equal(got, []string{"a|VIEW", "v|BASE TABLE"}) {
		t.Errorf("relations = %v", got)
	}
}

func TestDataTests(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	nodes := append(shop(),
		testNode("not_null_customers_customer", "select * from main.customers where customer is null", "model.customers", ""),
		testNode("few_orders", "select customer, orders from main.customers where orders < 2 order by customer", "model.customers", "warn"),
		testNode("no_small_orders", "select id, amount, null as note from raw.orders where amount < 10 order by id", "model.top", "error"),
	)
	sum := run(t, wh, nodes)
	pass := result(t, sum, "test.not_null_customers_customer")
	if pass.Status != StatusPass || pass.Rows != 0 || pass.Message != "" {
		t.Errorf("pass: %+v", pass)
	}
	warn := result(t, sum, "test.few_orders")
	if warn.Status != StatusWarn || warn.Rows != 1 || warn.Message != "1 failing row: (customer=bob, orders=1)" || warn.Error != "" {
		t.Errorf("warn: %+v", warn)
	}
	fail := result(t, sum, "test.no_small_orders")
	wantMsg := "2 failing rows: (id=4, amount=0, note=NULL); (id=5, amount=5, note=NULL)"
	if fail.Status != StatusFail || fail.Rows != 2 || fail.Message != wantMsg ||
		fail.Error != "test no_small_orders (models/schema.yml:7): "+wantMsg {
		t.Errorf("fail: %+v", fail)
	}
	want := map[string]Status{
		"model.stg_orders": StatusSuccess, "model.customers": StatusSuccess, "model.top": StatusSuccess,
		"test.no_small_orders": StatusFail, "test.not_null_customers_customer": StatusPass, "test.few_orders": StatusWarn,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if sum.OK() || sum.Counts.Fail != 1 || sum.Counts.Warn != 1 || sum.Counts.Pass != 1 {
		t.Errorf("counts = %+v", sum.Counts)
	}
	if got := FormatResult(fail); !strings.Contains(got, " FAIL 2 no_small_orders ...") || !strings.HasSuffix(got, "[FAIL 2 in "+strings.SplitN(got, "[FAIL 2 in ", 2)[1]) {
		t.Errorf("line = %q", got)
	}
}

func TestBuildSkipsDownstreamOfFailedTest(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	build := func(severity string) *Summary {
		nodes := append(shop(), testNode("no_small_orders", "select id from raw.orders where amount < 10", "model.stg_orders", severity))
		// In build order, as the dag would give them: a test right after what it tests.
		nodes = []*compile.Node{nodes[0], nodes[4], nodes[1], nodes[2], nodes[3]}
		return run(t, wh, nodes, fullRefresh)
	}
	sum := build("error")
	want := map[string]Status{
		"model.stg_orders": StatusSuccess, "test.no_small_orders": StatusFail,
		"model.customers": StatusSkippedUpstreamFailed, "model.top": StatusSkippedUpstreamFailed,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Errorf("error severity (-want +got):\n%s", diff)
	}
	if got := result(t, sum, "model.customers").Message; got != "skipped: upstream no_small_orders failed" {
		t.Errorf("message = %q", got)
	}
	sum = build("warn")
	want = map[string]Status{
		"model.stg_orders": StatusSuccess, "test.no_small_orders": StatusWarn,
		"model.customers": StatusSuccess, "model.top": StatusSuccess,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Errorf("warn severity (-want +got):\n%s", diff)
	}
	if !sum.OK() {
		t.Errorf("a warning failed the run: %+v", sum.Counts)
	}
}

func TestTestErrors(t *testing.T) {
	wh := openWH(t)
	sum := run(t, wh, []*compile.Node{testNode("broken", "select * from main.nope", "model.x", "")})
	r := result(t, sum, "test.broken")
	if r.Status != StatusError || !strings.HasPrefix(r.Error, "test broken (models/schema.yml:7): Catalog Error: Table with name nope does not exist") {
		t.Errorf("%+v", r)
	}
}

func TestRunLog(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	run(t, wh, chain(), func(r *Runner) { r.RunID = "first" })
	nodes := chain()
	nodes[0].SQL = "select nope from raw.a"
	nodes = append(nodes, testNode("t", "select 1 where false", "model.c", ""))
	run(t, wh, nodes, func(r *Runner) { r.RunID = "second" })
	entries, err := state.RunLogEntries(context.Background(), wh, "second")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.NodeID] = e.Kind + " " + e.Status
		if time.Since(e.StartedAt) > time.Minute || time.Since(e.StartedAt) < 0 || e.RunID != "second" {
			t.Errorf("entry %+v", e)
		}
		if e.Status == "error" && !strings.Contains(e.Error, "Binder Error") {
			t.Errorf("error entry without the error: %+v", e)
		}
	}
	want := map[string]string{
		"model.a": "model error", "model.b": "model skipped_upstream_failed", "model.c": "model skipped_unchanged",
		"model.v": "model skipped_unchanged", "model.d": "model skipped_unchanged", "test.t": "test pass",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("run log (-want +got):\n%s", diff)
	}
	first, err := state.RunLogEntries(context.Background(), wh, "first")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range first {
		if e.Status != "success" || (e.NodeID != "model.v" && e.Rows != 1) || e.Seconds <= 0 {
			t.Errorf("first run entry %+v", e)
		}
	}
	if len(first) != 5 {
		t.Errorf("first run logged %d entries, want 5", len(first))
	}
}

func TestParallelRun(t *testing.T) {
	// Many independent models with shared parents build correctly with several threads, and
	// their swaps do not conflict.
	wh := openWH(t)
	source(t, wh, "raw", "a", "select range as x from range(100)")
	nodes := []*compile.Node{model("base", "table", "select x from raw.a", "source:raw.a")}
	for i := range 20 {
		name := "m" + string(rune('a'+i))
		nodes = append(nodes, model(name, "table", "select count(*) as n from main.base", "model.base"))
	}
	sum := run(t, wh, nodes, func(r *Runner) { r.Threads = 4 })
	if sum.Counts.Success != 21 {
		t.Fatalf("counts = %+v: %+v", sum.Counts, sum.Results)
	}
	if got := queryInt(t, wh, "select n from main.mt"); got != 100 {
		t.Errorf("mt = %d", got)
	}
}

func TestCancelledRun(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	nodes, byID := projectOf(chain()...)
	ctx, cancel := context.WithCancel(context.Background())
	r := &Runner{WH: wh, Nodes: byID, RunID: "cancelled"}
	rec := &recorder{}
	r.Reporter = reporterFunc(func(res Result) {
		rec.NodeDone(res)
		cancel()
	})
	sum, err := r.Run(ctx, nodes, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if sum == nil || sum.OK() {
		t.Fatalf("summary = %+v", sum)
	}
	entries, err := state.RunLogEntries(context.Background(), wh, "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Errorf("a cancelled run logged %d entries, want 5", len(entries))
	}
}

type reporterFunc func(Result)

func (reporterFunc) NodeStarted(Result)  {}
func (f reporterFunc) NodeDone(r Result) { f(r) }

// A model that reads the clock counts back from the time of its build, so unchanged inputs do
// not make it current: it rebuilds on every run, and what reads it follows. Views hold no data
// and need no rebuild; models that do not read the clock stay skipped.
func TestClockReadersRebuild(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	nodes := func() []*compile.Node {
		recent := model("recent", "table", "select * from raw.orders where current_date >= date '2020-01-01'", "source:raw.orders")
		recent.ReadsClock = compile.ReadsClock(recent.SQL)
		view := model("recent_view", "view", "select * from raw.orders where now() > timestamp '2020-01-01'", "source:raw.orders")
		view.ReadsClock = compile.ReadsClock(view.SQL)
		return []*compile.Node{
			recent,
			model("recent_count", "table", "select count(*) as n from main.recent", "model.recent"),
			view,
			model("all_orders", "table", "select * from raw.orders", "source:raw.orders"),
		}
	}
	run(t, wh, nodes())
	sum := run(t, wh, nodes())
	want := map[string]Status{
		"model.recent": StatusSuccess, "model.recent_count": StatusSuccess,
		"model.recent_view": StatusSkippedUnchanged, "model.all_orders": StatusSkippedUnchanged,
	}
	if diff := cmp.Diff(want, statuses(sum)); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	if got := result(t, sum, "model.recent").Message; !strings.Contains(got, "reads the clock (current_date)") {
		t.Errorf("message = %q, want the reason", got)
	}
}

// A custom materialization says what makes its models read the clock beyond their SQL.
func TestClockCheckOfCustomMaterialization(t *testing.T) {
	wh := openWH(t)
	loadShop(t, wh)
	RegisterMaterialization("test_clocked", func(ctx context.Context, b *Build) error {
		if err := b.EnsureSchema(ctx); err != nil {
			return err
		}
		tmp := b.Scratch("new")
		if err := b.WH.Exec(ctx, "CREATE OR REPLACE TABLE "+b.WH.Dialect().Relation(tmp)+" AS "+b.Node.SQL); err != nil {
			return err
		}
		swap, err := b.ReplaceTable(ctx, tmp, b.Relation())
		if err != nil {
			return err
		}
		return b.Commit(ctx, 0, "built", swap...)
	})
	RegisterClockCheck("test_clocked", func(n *compile.Node) string {
		if n.Config.Extra["window"] != nil {
			return "window: " + n.Config.Extra["window"].(string)
		}
		return ""
	})
	nodes := func() []*compile.Node {
		windowed := model("windowed", "test_clocked", "select * from raw.orders", "source:raw.orders")
		windowed.Config.Extra = map[string]any{"window": "7d"}
		return []*compile.Node{windowed, model("fixed", "test_clocked", "select * from raw.orders", "source:raw.orders")}
	}
	run(t, wh, nodes())
	sum := run(t, wh, nodes())
	if diff := cmp.Diff(map[string]Status{"model.windowed": StatusSuccess, "model.fixed": StatusSkippedUnchanged}, statuses(sum)); diff != "" {
		t.Errorf("second run (-want +got):\n%s", diff)
	}
	if got := result(t, sum, "model.windowed").Message; !strings.Contains(got, "reads the clock (window: 7d)") {
		t.Errorf("message = %q", got)
	}
}
