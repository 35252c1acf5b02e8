package audience

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/run"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// fixtureProject is a small project: profiles, their events and three audiences, one of which refers
// to another and one of which is plain SQL.
type fixtureProject struct {
	profiles, events, big, small, sqlOnly *compile.Node
}

func newProject(t *testing.T, spends string) *fixtureProject {
	p := &fixtureProject{}
	p.profiles = tableModel("profiles", "select * from (values "+spends+") as t(profile_id, total_spend)")
	p.events = tableModel("profile_events", `select 'p1' as profile_id, 'Order Completed' as event, TIMESTAMPTZ '2026-10-30 00:00:00+00' as "timestamp", '{"revenue": 20}'::JSON as properties`)
	p.big = audienceModel(t, "big", `select * from "main"."profiles"`,
		`{include: [total_spend], where: {column: total_spend, op: ">=", value: 100}}`, "model.profiles")
	p.small = audienceModel(t, "small", `select * from "main"."profiles"
-- depends_on: "main"."big"`,
		`{include: [], where: {not: {audience: big}}}`, "model.big", "model.profiles")
	p.sqlOnly = audienceModel(t, "buyers", `select profile_id, 'x' as segment from "main"."profiles" where total_spend > 0`, "", "model.profiles")
	return p
}

func (p *fixtureProject) nodes() []*compile.Node {
	return []*compile.Node{p.profiles, p.events, p.big, p.small, p.sqlOnly}
}

func history(t *testing.T, wh warehouse.Warehouse) []string {
	t.Helper()
	return queryStrings(t, wh, `select audience, profile_id, exited_at is null as open from main.audience_membership_history
		order by audience, profile_id, entered_at`)
}

// TestHistory follows profiles entering, leaving and coming back across runs.
func TestHistory(t *testing.T) {
	wh := openWH(t)
	p := newProject(t, "('p1', 300), ('p2', 150), ('p3', 10)")
	sum := runNodes(t, wh, p.nodes()...)
	if !sum.OK() {
		t.Fatalf("run 1: %+v", sum.Results)
	}
	if r := resultOf(t, sum, "model.big"); r.Rows != 2 || !strings.HasPrefix(r.Message, "2 members (2 entered, 0 exited)") {
		t.Errorf("run 1 big: %+v", r)
	}
	if got, want := queryStrings(t, wh, "select * from main.big order by 1"), []string{"p1|300", "p2|150"}; !cmp.Equal(got, want) {
		t.Errorf("big = %q, want %q", got, want)
	}
	if got, want := queryStrings(t, wh, "select * from main.small order by 1"), []string{"p3"}; !cmp.Equal(got, want) {
		t.Errorf("small = %q, want %q", got, want)
	}
	if got, want := queryStrings(t, wh, "select * from main.buyers order by 1"), []string{"p1|x", "p2|x", "p3|x"}; !cmp.Equal(got, want) {
		t.Errorf("buyers = %q, want %q", got, want)
	}

	// p2 drops below the threshold: it exits big and enters small.
	p2 := newProject(t, "('p1', 300), ('p2', 50), ('p3', 10)")
	sum = runNodes(t, wh, p2.nodes()...)
	if r := resultOf(t, sum, "model.big"); !strings.HasPrefix(r.Message, "1 members (0 entered, 1 exited)") {
		t.Errorf("run 2 big: %+v", r)
	}
	if r := resultOf(t, sum, "model.small"); !strings.HasPrefix(r.Message, "2 members (1 entered, 0 exited)") {
		t.Errorf("run 2 small: %+v", r)
	}

	// p2 comes back and p3 leaves buyers.
	p3 := newProject(t, "('p1', 300), ('p2', 200), ('p3', 0)")
	sum = runNodes(t, wh, p3.nodes()...)
	if !sum.OK() {
		t.Fatalf("run 3: %+v", sum.Results)
	}
	want := []string{
		"big|p1|true",
		"big|p2|false", // entered in run 1, exited in run 2
		"big|p2|true",  // re-entered in run 3
		"buyers|p1|true",
		"buyers|p2|true",
		"buyers|p3|false",
		"small|p2|false",
		"small|p3|true",
	}
	if diff := cmp.Diff(want, history(t, wh)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	// Exits happen after entries, and a re-entry after the exit.
	if got := queryStrings(t, wh, `select count(*) from main.audience_membership_history a
		join main.audience_membership_history b on a.audience = b.audience and a.profile_id = b.profile_id
		where a.exited_at is not null and b.exited_at is null and not (a.entered_at < a.exited_at and a.exited_at <= b.entered_at)`); got[0] != "0" {
		t.Errorf("history out of order: %v", got)
	}

	// Nothing changed: every model is skipped and the history stays.
	sum = runNodes(t, wh, p3.nodes()...)
	for _, r := range sum.Results {
		if r.Status != run.StatusSkippedUnchanged {
			t.Errorf("run 4: %s %s", r.ID, r.Status)
		}
	}
	if diff := cmp.Diff(want, history(t, wh)); diff != "" {
		t.Errorf("history after a no-op run (-want +got):\n%s", diff)
	}

	// --full-refresh rebuilds every audience and keeps the history: nobody entered or left.
	sum = runWith(t, wh, true, p3.nodes()...)
	if r := resultOf(t, sum, "model.big"); r.Status != run.StatusSuccess || !strings.HasPrefix(r.Message, "2 members (0 entered, 0 exited)") {
		t.Errorf("full refresh: %+v", r)
	}
	if diff := cmp.Diff(want, history(t, wh)); diff != "" {
		t.Errorf("history after --full-refresh (-want +got):\n%s", diff)
	}
}

// TestFailureKeepsPrevious checks that a failed build changes neither the audience nor the
// history, and leaves no scratch table.
func TestFailureKeepsPrevious(t *testing.T) {
	wh := openWH(t)
	p := newProject(t, "('p1', 300), ('p2', 150)")
	if sum := runNodes(t, wh, p.profiles, p.big); !sum.OK() {
		t.Fatalf("%+v", sum.Results)
	}
	dup := newProject(t, "('p1', 300), ('p2', 150), ('p2', 120)")
	sum := runNodes(t, wh, dup.profiles, dup.big)
	r := resultOf(t, sum, "model.big")
	if r.Status != run.StatusError || !strings.Contains(r.Error, "the audience has 3 rows for 2 profiles: the population must have one row per profile_id") {
		t.Errorf("duplicate profiles: %+v", r)
	}
	if got := queryStrings(t, wh, "select count(*) from main.big"); got[0] != "2" {
		t.Errorf("big has %v rows after a failed build", got)
	}
	if got := queryStrings(t, wh, "select count(*) from main.audience_membership_history"); got[0] != "2" {
		t.Errorf("history has %v rows after a failed build", got)
	}
	if got := queryStrings(t, wh, "select count(*) from information_schema.tables where table_name like '%__cdp_%'"); got[0] != "0" {
		t.Errorf("scratch tables left: %v", got)
	}
}

// TestDependencies checks that rules cannot read a model the audience does not depend on.
func TestDependencies(t *testing.T) {
	wh := openWH(t)
	p := newProject(t, "('p1', 300)")
	orders := audienceModel(t, "orders", `select * from "main"."profiles"`,
		`{where: {event: Order Completed}}`, "model.profiles")
	refs := audienceModel(t, "refs", `select * from "main"."profiles"`,
		`{where: {all: [{column: total_spend, op: ">", value: 0}, {audience: big}]}}`, "model.profiles")
	sum := runNodes(t, wh, p.profiles, p.events, p.big, orders, refs)
	if r := resultOf(t, sum, "model.orders"); !strings.Contains(r.Error, `audience.events: reads events model "profile_events", which the audience does not depend on; add the line -- depends_on: {{ ref('profile_events') }} to models/audiences/orders.sql so that profile_events is built first`) {
		t.Errorf("orders: %+v", r)
	}
	if r := resultOf(t, sum, "model.refs"); !strings.Contains(r.Error, `audience.where.all[1].audience: reads audience model "big", which the audience does not depend on`) {
		t.Errorf("refs: %+v", r)
	}
	// With the dependency the event rule works.
	orders.DependsOn = []string{"model.profile_events", "model.profiles"}
	sum = runNodes(t, wh, p.profiles, p.events, orders)
	if r := resultOf(t, sum, "model.orders"); r.Status != run.StatusSuccess || r.Rows != 1 {
		t.Errorf("orders with the dependency: %+v", r)
	}
}

// TestErrorLines checks that rule errors point at their line in the property file.
func TestErrorLines(t *testing.T) {
	wh := openWH(t)
	dir := t.TempDir()
	yml := `version: 2
models:
  - name: other
  - name: vip
    config:
      audience:
        where:
          all:
            - {column: total_spend, op: ">=", value: 100}
            - {column: total_spend, op: "=>", value: 100}
`
	if err := os.MkdirAll(filepath.Join(dir, "models", "audiences"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "audiences", "audiences.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	p := newProject(t, "('p1', 300)")
	vip := audienceModel(t, "vip", `select * from "main"."profiles"`, "", "model.profiles")
	vip.Config.Extra = map[string]any{"audience": rulesOf(t, "where:\n  all:\n    - {column: total_spend, op: \">=\", value: 100}\n    - {column: total_spend, op: \"=>\", value: 100}\n")}
	vip.Pos = config.Pos{File: "models/audiences/audiences.yml", Line: 4}
	sum := runNodes(t, wh, p.profiles, vip)
	want := `models/audiences/audiences.yml:10: audience.where.all[1].op: "=>" is not an operator`
	if r := resultOf(t, sum, "model.vip"); !strings.Contains(r.Error, want) {
		t.Errorf("error = %s\nwant it to contain %s", r.Error, want)
	}
	// Without the file, the error is at the model's entry.
	t.Chdir(t.TempDir())
	sum = runNodes(t, wh, p.profiles, vip)
	want = `models/audiences/audiences.yml:4: audience.where.all[1].op:`
	if r := resultOf(t, sum, "model.vip"); !strings.Contains(r.Error, want) {
		t.Errorf("error = %s\nwant it to contain %s", r.Error, want)
	}
}

// TestValidate checks an audience the way cdp compile does, in an empty scratch database.
func TestValidate(t *testing.T) {
	ctx := t.Context()
	scratch := openWH(t)
	mustExec(t, scratch, `create view main.profiles as select 'p1' as profile_id, 1.5::double as total_spend, '{}'::json as traits where false`)
	mustExec(t, scratch, `create table main.profile_events (profile_id varchar, event varchar, "timestamp" timestamptz, properties json)`)
	rels := func(id string) (warehouse.Relation, bool) {
		return warehouse.Relation{Schema: "main", Name: strings.TrimPrefix(id, "model.")}, true
	}
	vip := audienceModel(t, "vip", `select * from "main"."profiles"`,
		`{include: [total_spend], where: {event: Order Completed, sum: revenue, op: ">", value: 1}}`, "model.profile_events", "model.profiles")
	if err := Validate(ctx, scratch, t.TempDir(), vip, rels); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, scratch, `select column_name from information_schema.columns where table_name = 'vip' order by ordinal_position`); !cmp.Equal(got, []string{"profile_id", "total_spend"}) {
		t.Errorf("vip's columns in scratch = %q", got)
	}
	if got := queryStrings(t, scratch, `select count(*) from main.audience_membership_history`); got[0] != "0" {
		t.Errorf("history: %v", got)
	}

	// Errors are placed with the project directory, wherever the working directory is.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "models", "audiences"), 0o755); err != nil {
		t.Fatal(err)
	}
	yml := "version: 2\nmodels:\n  - name: bad\n    config:\n      audience:\n        include: [total_spent]\n"
	if err := os.WriteFile(filepath.Join(dir, "models", "audiences", "audiences.yml"), []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := audienceModel(t, "bad", `select * from "main"."profiles"`, "{include: [total_spent]}", "model.profiles")
	err := Validate(ctx, scratch, dir, bad, rels)
	want := `models/audiences/audiences.yml:6: audience.include[0]: column "total_spent" is not in the population; did you mean "total_spend"?`
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
}
