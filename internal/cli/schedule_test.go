package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestScheduleOnce(t *testing.T) {
	hook, manual := newHookServer(t), newHookServer(t)
	dir := writeSyncProject(t, 30, hook.URL, `  - name: vips_manual
    model: vips
    primary_key: id
    mode: mirror
    mapping:
      email: email
    destination:
      type: webhook
      url: `+manual.URL+`
      secret: ${HOOK_SECRET}
`)

	code, out, errOut := cdp(t, dir, "--json", "schedule", "--once")
	if code != ExitOK {
		t.Fatalf("schedule --once exited %d:\n%s%s", code, out, errOut)
	}
	var runs []scheduleRun
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r scheduleRun
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%v in:\n%s", err, out)
		}
		runs = append(runs, r)
	}
	if len(runs) != 1 || runs[0].Job != "vips" || runs[0].Kind != "sync" || runs[0].Status != "ok" ||
		runs[0].Sync == nil || runs[0].Sync.Added != 30 {
		t.Errorf("runs: %s", out)
	}
	if _, seen := hook.counts(); len(seen) != 30 {
		t.Errorf("scheduled sync delivered %d keys, want 30", len(seen))
	}
	if posts, _ := manual.counts(); posts != 0 {
		t.Errorf("the sync without a schedule ran (%d posts)", posts)
	}
	if !strings.Contains(errOut, "job started") || !strings.Contains(errOut, "job finished") {
		t.Errorf("log:\n%s", errOut)
	}

	// Run again at once: vips ran since its schedule last fired, so it is not due.
	code, out, errOut = cdp(t, dir, "schedule", "--once")
	if code != ExitOK || !strings.Contains(out, "vips is not due: it last ran at ") || strings.Contains(errOut, "job started") {
		t.Errorf("run when nothing is due exited %d:\n%s%s", code, out, errOut)
	}
	// --all runs it anyway: human output, and the snapshot makes the run a no-op.
	code, out, errOut = cdp(t, dir, "schedule", "--once", "--all")
	if code != ExitOK || !strings.Contains(out, "vips: up to date") {
		t.Errorf("second run exited %d:\n%s%s", code, out, errOut)
	}
	if code, _, errOut := cdp(t, dir, "schedule", "--all"); code != ExitUsage || !strings.Contains(errOut, "--all goes with --once") {
		t.Errorf("--all without --once exited %d: %s", code, errOut)
	}

	// The warehouse is not held after the run: another command opens it.
	if code, _, errOut := cdp(t, dir, "sync", "list"); code != ExitOK || strings.Contains(errOut, "warning") {
		t.Errorf("sync list after schedule exited %d: %s", code, errOut)
	}

	// A failing job makes --once exit 1.
	sqlIn(t, dir, `DROP TABLE main.vips`)
	if code, _, errOut := cdp(t, dir, "schedule", "--once", "--all"); code != ExitFailure || !strings.Contains(errOut, "Error: vips:") {
		t.Errorf("failing run exited %d: %s", code, errOut)
	}

	if code, _, errOut := cdp(t, dir, "schedule", "--once", "--build-schedule", "whenever"); code != ExitUsage || !strings.Contains(errOut, "--build-schedule") {
		t.Errorf("bad --build-schedule exited %d: %s", code, errOut)
	}
}

// writePipelineProject is a project whose model vips (n rows) is built and tested by a
// pipeline, then sent by the syncs downstream of it.
func writePipelineProject(t *testing.T, n int, hookURL, otherURL, pipelines string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"cdp.yaml": "name: pipetest\ntarget: dev\ntargets:\n  dev:\n    type: duckdb\n    path: wh.duckdb\n" + pipelines,
		"models/vips.sql": fmt.Sprintf(`{{ config(materialized='table') }}
select 'v' || lpad(cast(i as varchar), 5, '0') as id, 'v' || i || '@example.com' as email from range(1, %d) t(i)
`, n+1),
		"models/others.sql": "select 'o1' as id, 'o1@example.com' as email\n",
		"models/vips.yml":   "version: 2\nmodels:\n  - name: vips\n    columns:\n      - name: email\n        tests: [not_null]\n",
		"syncs/vips.yml": `syncs:
  - name: vips_hook
    model: vips
    primary_key: id
    mode: mirror
    mapping: {email: email}
    destination:
      type: webhook
      url: ` + hookURL + `
      secret: ${HOOK_SECRET}
  - name: others_hook
    model: others
    primary_key: id
    mode: mirror
    mapping: {email: email}
    destination:
      type: webhook
      url: ` + otherURL + `
      secret: ${HOOK_SECRET}
`,
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOOK_SECRET", "s3cret")
	return dir
}

func decodeRuns(t *testing.T, out string) []scheduleRun {
	t.Helper()
	var runs []scheduleRun
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r scheduleRun
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%v in:\n%s", err, out)
		}
		runs = append(runs, r)
	}
	return runs
}

func TestSchedulePipeline(t *testing.T) {
	hook, other := newHookServer(t), newHookServer(t)
	dir := writePipelineProject(t, 20, hook.URL, other.URL, `pipelines:
  hourly:
    schedule: "0 * * * *"
    steps:
      - build: vips
      - sync: downstream
`)
	code, out, errOut := cdp(t, dir, "--json", "schedule", "--once")
	if code != ExitOK {
		t.Fatalf("schedule --once exited %d:\n%s%s", code, out, errOut)
	}
	runs := decodeRuns(t, out)
	if len(runs) != 1 {
		t.Fatalf("runs: %s", out)
	}
	r := runs[0]
	if r.Job != "hourly" || r.Kind != "pipeline" || r.Status != "ok" || len(r.Steps) != 2 {
		t.Fatalf("run: %s", out)
	}
	build, syncs := r.Steps[0], r.Steps[1]
	if build.Step != "build vips" || build.Kind != "build" || build.Status != "ok" || build.Counts == nil ||
		build.Counts.Success != 1 || build.Counts.Pass != 1 || build.StartedAt == nil {
		t.Errorf("build step: %+v", build)
	}
	if syncs.Step != "sync downstream" || syncs.Status != "ok" || len(syncs.Syncs) != 1 ||
		syncs.Syncs[0].Sync != "vips_hook" || syncs.Syncs[0].Added != 20 || syncs.StartedAt.Before(*build.StartedAt) {
		t.Errorf("sync step: %+v", syncs)
	}
	if _, seen := hook.counts(); len(seen) != 20 {
		t.Errorf("downstream sync delivered %d keys, want 20", len(seen))
	}
	if posts, _ := other.counts(); posts != 0 {
		t.Errorf("the sync of a model the pipeline did not build ran (%d posts)", posts)
	}
	for _, want := range []string{`msg="step started" job=hourly step="build vips"`, `msg="step finished" job=hourly step="sync downstream"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("log lacks %s:\n%s", want, errOut)
		}
	}

	// Human output: the build's summary, then the sync's.
	code, out, errOut = cdp(t, dir, "schedule", "--once", "--all")
	if code != ExitOK || !strings.Contains(out, "vips_hook: up to date") {
		t.Errorf("second run exited %d:\n%s%s", code, out, errOut)
	}

	// A failing test stops the pipeline before the sync: nothing of the bad model is sent.
	posts, _ := hook.counts()
	os.WriteFile(filepath.Join(dir, "models/vips.sql"), []byte(`{{ config(materialized='table') }}
select 'v' || i as id, case when i = 3 then null else 'new' || i || '@example.com' end as email from range(1, 21) t(i)
`), 0o644)
	code, out, errOut = cdp(t, dir, "--json", "schedule", "--once", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "Error: hourly: step 1 (build vips) failed: 0 error(s), 1 failed test(s)") {
		t.Errorf("failing pipeline exited %d:\n%s", code, errOut)
	}
	runs = decodeRuns(t, out)
	if len(runs) != 1 || runs[0].Status != "error" || runs[0].Steps[0].Status != "error" || runs[0].Steps[0].Counts.Fail != 1 ||
		runs[0].Steps[1].Status != "not_run" || runs[0].Steps[1].StartedAt != nil {
		t.Errorf("failed run: %s", out)
	}
	if now, _ := hook.counts(); now != posts {
		t.Errorf("the sync ran after a failed test (%d posts, were %d)", now, posts)
	}

	// Every run is in the schedule log.
	code, out, errOut = cdp(t, dir, "sql", "select job, kind, status, error is null as ok, json_extract_string(steps, '$[1].status') as sync from _cdp.schedule_runs order by started_at", "--format", "csv")
	want := "job,kind,status,ok,sync\nhourly,pipeline,ok,true,ok\nhourly,pipeline,ok,true,ok\nhourly,pipeline,error,false,not_run\n"
	if code != ExitOK || out != want {
		t.Errorf("schedule log exited %d:\n%s%s", code, out, errOut)
	}
}

func TestSchedulePipelineErrors(t *testing.T) {
	hook := newHookServer(t)
	dir := writePipelineProject(t, 2, hook.URL, hook.URL, `pipelines:
  hourly:
    schedule: "0 * * * *"
    steps:
      - build
      - sync: [vips_hok, others_hook]
  vips_hook:
    schedule: "@daily"
    steps: [test]
`)
	code, _, errOut := cdp(t, dir, "schedule", "--once")
	for _, want := range []string{
		`cdp.yaml:12: pipeline "hourly": no sync named "vips_hok"; did you mean "vips_hook"?`,
		`cdp.yaml:13: pipeline "vips_hook" has the name of the sync at syncs/vips.yml:2; rename one`,
	} {
		if code != ExitFailure || !strings.Contains(errOut, want) {
			t.Errorf("exited %d, want an error containing %s:\n%s", code, want, errOut)
		}
	}
	if posts, _ := hook.counts(); posts != 0 {
		t.Errorf("a job ran despite the errors")
	}

	dir = writePipelineProject(t, 2, hook.URL, hook.URL, "pipelines:\n  build:\n    schedule: '@daily'\n    steps: [build]\n")
	if code, _, errOut := cdp(t, dir, "schedule", "--once", "--build-schedule", "@hourly"); code != ExitUsage || !strings.Contains(errOut, "already has one (cdp.yaml:8)") {
		t.Errorf("--build-schedule with a build pipeline exited %d: %s", code, errOut)
	}
	// --build-schedule alone is a pipeline named build.
	code, out, errOut := cdp(t, dir, "--json", "schedule", "--once")
	if runs := decodeRuns(t, out); code != ExitOK || len(runs) != 1 || runs[0].Job != "build" || runs[0].Steps[0].Counts.Success != 2 {
		t.Errorf("build pipeline exited %d:\n%s%s", code, out, errOut)
	}
}

// TestScheduleSIGTERM stops a running `cdp schedule` (a real process) with SIGTERM in the
// middle of a long sync: it exits promptly, without sending the rest, and what the server
// acknowledged is committed, so the next run sends exactly the rows that are left, none twice.
func TestScheduleSIGTERM(t *testing.T) {
	const rows, batch = 3000, 10
	hook := newHookServer(t)
	hook.delay = 30 * time.Millisecond
	dir := writeSyncProject(t, rows, hook.URL, fmt.Sprintf("      batch_size: %d\n      concurrency: 2\n", batch))
	yml := filepath.Join(dir, "syncs", "vips.yml")
	if err := os.WriteFile(yml, []byte(strings.Replace(mustRead(t, yml), `schedule: "*/15 * * * *"`, `schedule: "@every 1s"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd, stderr := startCdp(t, "--project-dir", dir, "schedule")
	waitPosts(t, hook, 20, cmd, stderr)
	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(stopped)
	_, seenAtStop := hook.counts()
	if len(seenAtStop) >= rows {
		t.Fatalf("the sync sent every row before stopping (%s after SIGTERM); the stop did not reach it", took)
	}
	if took > 5*time.Second {
		t.Errorf("cdp schedule took %s to stop", took)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("wait: %v", err)
	}
	if !strings.Contains(stderr.String(), "stopping") {
		t.Errorf("the stop is not logged:\n%s", stderr.String())
	}

	// Every acknowledged row was committed: the next run sends the others, none twice.
	hook.mu.Lock()
	hook.delay = 0
	hook.mu.Unlock()
	if code, out, errOut := cdp(t, dir, "sync", "run", "vips"); code != ExitOK {
		t.Fatalf("rerun exited %d:\n%s%s", code, out, errOut)
	}
	_, seen := hook.counts()
	if len(seen) != rows {
		t.Errorf("%d of %d rows arrived", len(seen), rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	t.Logf("stopped %s after SIGTERM with %d of %d rows sent", took.Round(time.Millisecond), len(seenAtStop), rows)
}
