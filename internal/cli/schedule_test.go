package cli

import (
	"encoding/json"
	"strings"
	"testing"
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

	// Human output, and the snapshot makes the second run a no-op.
	code, out, errOut = cdp(t, dir, "schedule", "--once")
	if code != ExitOK || !strings.Contains(out, "vips: up to date") {
		t.Errorf("second run exited %d:\n%s%s", code, out, errOut)
	}

	// The warehouse is not held after the run: another command opens it.
	if code, _, errOut := cdp(t, dir, "sync", "list"); code != ExitOK || strings.Contains(errOut, "warning") {
		t.Errorf("sync list after schedule exited %d: %s", code, errOut)
	}

	// A failing job makes --once exit 1.
	sqlIn(t, dir, `DROP TABLE main.vips`)
	if code, _, errOut := cdp(t, dir, "schedule", "--once"); code != ExitFailure || !strings.Contains(errOut, "Error: vips:") {
		t.Errorf("failing run exited %d: %s", code, errOut)
	}

	if code, _, errOut := cdp(t, dir, "schedule", "--once", "--build-schedule", "whenever"); code != ExitUsage || !strings.Contains(errOut, "--build-schedule") {
		t.Errorf("bad --build-schedule exited %d: %s", code, errOut)
	}
}
