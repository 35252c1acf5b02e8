package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePipelines(t *testing.T) {
	p := mustParse(t, map[string]string{"cdp.yaml": y(`
name: shop
sources:
  events: {format: segment}
pipelines:
  hourly:
    schedule: "0 * * * *"
    description: refresh and push
    steps:
      - load: {source: events, path: incoming/}
      - build
      - build: "+high_value_customers"
      - run: [staging, tag:nightly]
      - run: {select: customers+, exclude: stg_legacy, full_refresh: true}
      - test
      - sync: [a, b]
      - sync: downstream
  nightly:
    schedule: "@every 24h"
    steps: [build, {sync: [downstream]}]
`)})
	pos := func(line int) Pos { return Pos{File: "cdp.yaml", Line: line} }
	want := []*Pipeline{
		{Name: "hourly", Schedule: "0 * * * *", Description: "refresh and push", Pos: pos(5), Steps: []Step{
			{Kind: "load", Source: "events", Paths: []string{"incoming/"}, Pos: pos(9)},
			{Kind: "build", Pos: pos(10)},
			{Kind: "build", Select: []string{"+high_value_customers"}, Pos: pos(11)},
			{Kind: "run", Select: []string{"staging", "tag:nightly"}, Pos: pos(12)},
			{Kind: "run", Select: []string{"customers+"}, Exclude: []string{"stg_legacy"}, FullRefresh: true, Pos: pos(13)},
			{Kind: "test", Pos: pos(14)},
			{Kind: "sync", Syncs: []string{"a", "b"}, Pos: pos(15)},
			{Kind: "sync", Downstream: true, Pos: pos(16)},
		}},
		{Name: "nightly", Schedule: "@every 24h", Pos: pos(17), Steps: []Step{
			{Kind: "build", Pos: pos(19)},
			// A list always names syncs, even one called downstream.
			{Kind: "sync", Syncs: []string{"downstream"}, Pos: pos(19)},
		}},
	}
	if diff := cmp.Diff(want, p.Pipelines); diff != "" {
		t.Errorf("pipelines (-want +got):\n%s", diff)
	}
	var names []string
	for _, st := range p.Pipelines[0].Steps {
		names = append(names, st.String())
	}
	wantNames := []string{"load events incoming/", "build", "build +high_value_customers", "run staging tag:nightly",
		"run customers+ --exclude stg_legacy --full-refresh", "test", "sync a, b", "sync downstream"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("step names (-want +got):\n%s", diff)
	}
}

func TestParsePipelinesNone(t *testing.T) {
	if p := mustParse(t, map[string]string{"cdp.yaml": "name: shop\npipelines:\n"}); p.Pipelines != nil {
		t.Errorf("pipelines = %v, want none", p.Pipelines)
	}
}

func TestParsePipelineErrors(t *testing.T) {
	const head = "name: shop\nsources:\n  events: {format: segment}\npipelines:\n"
	tests := []struct {
		name  string
		yaml  string // after head: the first line is line 5
		wants []string
	}{
		{"unknown step with suggestion", "  p:\n    schedule: '@hourly'\n    steps: [biuld]\n",
			[]string{`cdp.yaml:7: pipelines.p.steps[0]: unknown step "biuld"; did you mean "build"?`}},
		{"unknown step kind as a key", "  p:\n    schedule: '@hourly'\n    steps:\n      - snyc: downstream\n",
			[]string{`cdp.yaml:8: pipelines.p.steps[0]: unknown step "snyc"; did you mean "sync"?`}},
		{"unknown step without suggestion", "  p:\n    schedule: '@hourly'\n    steps: [deploy]\n",
			[]string{`cdp.yaml:7: pipelines.p.steps[0]: unknown step "deploy"; use one of build, run, test, load, sync`}},
		{"bad cron", "  p:\n    schedule: every hour\n    steps: [build]\n",
			[]string{`cdp.yaml:6: pipelines.p.schedule "every hour" is not a valid cron schedule (expected exactly 5 fields, found 2: [every hour]); use 5 fields`}},
		{"no schedule", "  p:\n    steps: [build]\n",
			[]string{"cdp.yaml:5: pipeline \"p\" has no schedule; add `schedule:`"}},
		{"empty steps", "  p:\n    schedule: '@hourly'\n    steps: []\n",
			[]string{"cdp.yaml:5: pipeline \"p\" has no steps; add `steps:`"}},
		{"no steps", "  p:\n    schedule: '@hourly'\n",
			[]string{"cdp.yaml:5: pipeline \"p\" has no steps"}},
		{"steps not a list", "  p:\n    schedule: '@hourly'\n    steps: build\n",
			[]string{`cdp.yaml:7: pipelines.p.steps must be a list of steps (- build, - sync: downstream), got "build"`}},
		{"duplicate pipeline", "  p:\n    schedule: '@hourly'\n    steps: [build]\n  p:\n    schedule: '@daily'\n    steps: [test]\n",
			[]string{`cdp.yaml:8: key "p" appears twice in pipelines (first at line 5); remove one`}},
		{"bad name", "  Hourly-Run:\n    schedule: '@hourly'\n    steps: [build]\n",
			[]string{`cdp.yaml:5: pipeline name "Hourly-Run" is not valid: use lowercase letters, digits and _, starting with a letter`}},
		{"unknown pipeline key", "  p:\n    schedle: '@hourly'\n    steps: [build]\n",
			[]string{`cdp.yaml:6: unknown key "schedle" in pipelines.p; did you mean "schedule"?`}},
		{"two kinds in one step", "  p:\n    schedule: '@hourly'\n    steps:\n      - {build: x, sync: downstream}\n",
			[]string{`cdp.yaml:8: pipelines.p.steps[0] has 2 keys; a step is one of build, run, test, load, sync, so put each in its own list item`}},
		{"sync without syncs", "  p:\n    schedule: '@hourly'\n    steps: [build, sync]\n",
			[]string{"cdp.yaml:7: pipelines.p.steps[1].sync needs the syncs to run"}},
		{"sync with an empty list", "  p:\n    schedule: '@hourly'\n    steps:\n      - sync: []\n",
			[]string{"cdp.yaml:8: pipelines.p.steps[0].sync lists no syncs"}},
		{"downstream first", "  p:\n    schedule: '@hourly'\n    steps:\n      - test\n      - sync: downstream\n",
			[]string{"cdp.yaml:9: pipeline \"p\": `sync: downstream` runs the syncs of the models that earlier build or run steps selected, and no step before it does"}},
		{"bad selection key", "  p:\n    schedule: '@hourly'\n    steps:\n      - build: {selct: x}\n",
			[]string{`cdp.yaml:8: unknown key "selct" in pipelines.p.steps[0].build; did you mean "select"?`}},
		{"full refresh on test", "  p:\n    schedule: '@hourly'\n    steps:\n      - test: {full_refresh: true}\n",
			[]string{"cdp.yaml:8: pipelines.p.steps[0].test: full_refresh applies to build and run steps"}},
		{"load without a mapping", "  p:\n    schedule: '@hourly'\n    steps:\n      - load: incoming/\n",
			[]string{"cdp.yaml:8: pipelines.p.steps[0].load needs the source and the files to load, as `load: {source: events, path: incoming/}`; got \"incoming/\""}},
		{"load without source or path", "  p:\n    schedule: '@hourly'\n    steps:\n      - load: {}\n",
			[]string{"cdp.yaml:8: pipelines.p.steps[0].load has no source", "cdp.yaml:8: pipelines.p.steps[0].load has no path"}},
		{"load of an unknown source", "  p:\n    schedule: '@hourly'\n    steps:\n      - load: {source: event, path: in/}\n",
			[]string{`cdp.yaml:8: pipeline "p": load step: source "event" is not declared; did you mean "events"?`}},
		{"pipeline not a mapping", "  p: [build]\n",
			[]string{"cdp.yaml:5: pipelines.p must be a mapping (key: value lines), got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFiles(t, map[string]string{"cdp.yaml": head + tt.yaml}, nil)
			wantErr(t, err, tt.wants...)
		})
	}
}

// Every problem of every pipeline comes back at once, in line order.
func TestParsePipelineErrorsAllAtOnce(t *testing.T) {
	_, err := parseFiles(t, map[string]string{"cdp.yaml": y(`
name: shop
pipelines:
  a:
    schedule: nope
    steps: [biuld]
  b:
    schedule: '@hourly'
    steps:
      - sync: downstream
`)}, nil)
	want := `cdp.yaml:4: pipelines.a.schedule "nope" is not a valid cron schedule (expected exactly 5 fields, found 1: [nope]); use 5 fields, minute hour day-of-month month day-of-week, such as "0 * * * *", or @hourly, @daily, @every 30m
cdp.yaml:5: pipelines.a.steps[0]: unknown step "biuld"; did you mean "build"?
cdp.yaml:9: pipeline "b": ` + "`sync: downstream`" + ` runs the syncs of the models that earlier build or run steps selected, and no step before it does; add a build step before it, or name the syncs`
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
