package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/sync"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// The tests here run the real webhook destination against a local HTTP server: its wire format
// is {"sync", "batch_id", "rows": [{"key", "action", "fields"}]}; a 2xx acknowledges every row,
// another 4xx rejects every row of the batch with the status as reason.

type wireBatch struct {
	ID   string    `json:"batch_id"`
	Rows []wireRow `json:"rows"`
}

type wireRow struct {
	Key    string         `json:"key"`
	Action string         `json:"action"`
	Fields map[string]any `json:"fields"`
}

// hookServer records every row it receives by key, before answering (so a client killed while
// waiting for the answer still counts as having delivered).
type hookServer struct {
	*httptest.Server
	delay time.Duration
	mu    gosync.Mutex
	seen  map[string]int
	posts int
	fail  func(wireBatch) int // status to answer instead of 200, or 0
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{seen: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b wireBatch
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		status := 0
		if h.fail != nil {
			status = h.fail(b)
		}
		if status == 0 {
			h.posts++
			for _, row := range b.Rows {
				h.seen[row.Key]++
			}
		}
		delay := h.delay
		h.mu.Unlock()
		if status != 0 {
			http.Error(w, "bad row", status)
			return
		}
		time.Sleep(delay)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) counts() (posts int, seen map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen = make(map[string]int, len(h.seen))
	for k, v := range h.seen {
		seen[k] = v
	}
	return h.posts, seen
}

// syncProject writes a project whose warehouse has main.vips (n rows, v0001..) and one sync,
// vips, to the hook server.
func writeSyncProject(t *testing.T, n int, url, extra string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"cdp.yaml": "name: synctest\ntarget: dev\ntargets:\n  dev:\n    type: duckdb\n    path: wh.duckdb\n",
		"syncs/vips.yml": `syncs:
  - name: vips
    model: vips
    primary_key: id
    mode: mirror
    schedule: "*/15 * * * *"
    mapping:
      email: email
      spend: spend
      source: {const: cdp}
    destination:
      type: webhook
      url: ` + url + `
      secret: ${HOOK_SECRET}
` + extra,
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sqlIn(t, dir, fmt.Sprintf(`CREATE TABLE main.vips AS SELECT 'v' || lpad(CAST(i AS VARCHAR), 5, '0') AS id,
		'v' || i || '@example.com' AS email, i * 1.5 AS spend FROM range(1, %d) t(i)`, n+1))
	t.Setenv("HOOK_SECRET", "s3cret")
	return dir
}

func sqlIn(t *testing.T, dir, sql string) {
	t.Helper()
	w, err := warehouse.Open(context.Background(), warehouse.Config{Type: "duckdb", Path: filepath.Join(dir, "wh.duckdb")})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func cdp(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), append([]string{"--project-dir", dir}, args...), nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSyncCommands(t *testing.T) {
	hook := newHookServer(t)
	dir := writeSyncProject(t, 50, hook.URL, "")

	code, out, errOut := cdp(t, dir, "sync", "plan", "vips", "--detailed-exitcode")
	if code != ExitChanges || !strings.Contains(out, "Plan: 50 to add, 0 to change, 0 to remove.") ||
		!strings.Contains(out, `  + add     v00001  {email: "v1@example.com", source: "cdp", spend: 1.5}`) {
		t.Fatalf("plan exited %d:\n%s%s", code, out, errOut)
	}
	if code, _, _ := cdp(t, dir, "sync", "plan", "vips"); code != ExitOK {
		t.Errorf("plan without --detailed-exitcode exited %d", code)
	}
	if code, _, errOut := cdp(t, dir, "sync", "plan", "vps", "--detailed-exitcode"); code != ExitFailure || !strings.Contains(errOut, `no sync named "vps"; did you mean "vips"?`) {
		t.Errorf("unknown sync exited %d: %s", code, errOut)
	}

	code, out, errOut = cdp(t, dir, "sync", "run", "vips")
	if code != ExitOK || !strings.Contains(out, "vips: 50 added, 0 changed, 0 removed, 0 rejected") {
		t.Fatalf("run exited %d:\n%s%s", code, out, errOut)
	}
	if _, seen := hook.counts(); len(seen) != 50 {
		t.Errorf("server saw %d keys", len(seen))
	}
	code, out, _ = cdp(t, dir, "sync", "plan", "vips", "--detailed-exitcode")
	if code != ExitOK || !strings.Contains(out, "No changes") {
		t.Errorf("plan after run exited %d:\n%s", code, out)
	}

	// A row the server refuses is isolated, recorded and sent again next run.
	sqlIn(t, dir, `UPDATE main.vips SET spend = spend + 1 WHERE id IN ('v00003', 'v00007')`)
	hook.mu.Lock()
	hook.fail = func(b wireBatch) int {
		for _, r := range b.Rows {
			if r.Key == "v00007" {
				return http.StatusBadRequest
			}
		}
		return 0
	}
	hook.mu.Unlock()
	code, out, errOut = cdp(t, dir, "--json", "sync", "run", "--all")
	var results []*sync.Result
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("run --json exited %d: %v\n%s%s", code, err, out, errOut)
	}
	if code != ExitOK || len(results) != 1 || results[0].Status != "partial" || results[0].Changed != 1 || results[0].Rejected != 1 ||
		results[0].Rejections[0].Reason != "HTTP 400: bad row" {
		t.Errorf("partial run exited %d: %s", code, out)
	}
	hook.mu.Lock()
	hook.fail = nil
	hook.mu.Unlock()
	if code, out, _ := cdp(t, dir, "sync", "run", "vips"); code != ExitOK || !strings.Contains(out, "vips: 0 added, 1 changed") {
		t.Errorf("rerun exited %d: %s", code, out)
	}

	// Guards: refused, recorded, then forced.
	if err := os.WriteFile(filepath.Join(dir, "syncs", "vips.yml"), []byte(strings.Replace(mustRead(t, filepath.Join(dir, "syncs", "vips.yml")),
		"    schedule:", "    guards: {max_remove_share: 0.1}\n    schedule:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	sqlIn(t, dir, `DELETE FROM main.vips WHERE id > 'v00040'`)
	code, _, errOut = cdp(t, dir, "sync", "run", "vips")
	if code != ExitFailure || !strings.Contains(errOut, `sync "vips": refused to apply the plan: max_remove_share: 10 remove(s) are 20% of the 50-row snapshot`) ||
		!strings.Contains(errOut, "run again with --force") {
		t.Errorf("guarded run exited %d: %s", code, errOut)
	}
	if code, out, errOut := cdp(t, dir, "sync", "run", "vips", "--force"); code != ExitOK || !strings.Contains(out, "10 removed") {
		t.Errorf("forced run exited %d: %s%s", code, out, errOut)
	}

	code, out, _ = cdp(t, dir, "sync", "list")
	if code != ExitOK || !strings.Contains(out, "vips  vips   webhook      mirror  */15 * * * *  ok ") {
		t.Errorf("list exited %d:\n%s", code, out)
	}
	code, out, _ = cdp(t, dir, "--json", "sync", "history", "vips")
	var runs []state.SyncRun
	if err := json.Unmarshal([]byte(out), &runs); err != nil || code != ExitOK {
		t.Fatalf("history exited %d: %v\n%s", code, err, out)
	}
	var statuses []string
	for _, r := range runs {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]string{"ok", "refused", "ok", "partial", "ok"}, statuses); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	code, out, _ = cdp(t, dir, "sync", "history")
	if code != ExitOK || !strings.Contains(out, "STARTED") || strings.Count(out, "\n") != 6 {
		t.Errorf("history exited %d:\n%s", code, out)
	}
}

func TestSyncDestinationErrors(t *testing.T) {
	dir := writeSyncProject(t, 3, "http://127.0.0.1:1/none", "")
	os.Unsetenv("HOOK_SECRET")
	code, _, errOut := cdp(t, dir, "sync", "run", "vips")
	if code != ExitFailure || !strings.Contains(errOut, "syncs/vips.yml:14: destination.secret: environment variable HOOK_SECRET is not set") {
		t.Errorf("missing secret exited %d: %s", code, errOut)
	}
	_, out, _ := cdp(t, dir, "--json", "sync", "history")
	if !strings.Contains(out, `"status": "failed"`) {
		t.Errorf("failure not recorded: %s", out)
	}
	// A literal secret is refused when the syncs are read.
	os.WriteFile(filepath.Join(dir, "syncs", "vips.yml"), []byte(strings.Replace(mustRead(t, filepath.Join(dir, "syncs", "vips.yml")), "${HOOK_SECRET}", "hunter2", 1)), 0o644)
	code, _, errOut = cdp(t, dir, "sync", "list")
	if code != ExitFailure || !strings.Contains(errOut, "syncs/vips.yml:14: sync \"vips\".destination.secret is a secret") {
		t.Errorf("literal secret: exited %d: %s", code, errOut)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSyncFlags(t *testing.T) {
	var plan *SyncPlanOptions
	cmd := NewCmdSyncPlan(&App{}, func(_ context.Context, o *SyncPlanOptions) error { plan = o; return nil })
	cmd.SetArgs([]string{"vips", "--detailed-exitcode", "--samples", "2"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&SyncPlanOptions{Name: "vips", DetailedExitCode: true, Samples: 2}, plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		args    []string
		want    *SyncRunOptions
		wantErr bool
	}{
		{args: []string{"a", "b"}, want: &SyncRunOptions{Names: []string{"a", "b"}}},
		{args: []string{"--all", "--force"}, want: &SyncRunOptions{Names: []string{}, All: true, Force: true}},
		{args: []string{}, wantErr: true},
		{args: []string{"a", "--all"}, wantErr: true},
	} {
		checkFlags(t, tc.args, tc.want, tc.wantErr, func(runF func(context.Context, *SyncRunOptions) error) *cobra.Command {
			return NewCmdSyncRun(&App{}, runF)
		})
	}
	var hist *SyncHistoryOptions
	cmd = NewCmdSyncHistory(&App{}, func(_ context.Context, o *SyncHistoryOptions) error { hist = o; return nil })
	cmd.SetArgs([]string{"vips", "--limit", "3"})
	if err := cmd.Execute(); err != nil || hist.Name != "vips" || hist.Limit != 3 {
		t.Errorf("history %+v %v", hist, err)
	}
}

// TestSyncHelperProcess is cdp itself when run by TestSyncKilled with helperSyncArgs set.
func TestSyncHelperProcess(t *testing.T) {
	raw := os.Getenv("CDP_SYNC_HELPER_ARGS")
	if raw == "" {
		return // only a helper process for TestSyncKilled
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(Main(context.Background(), args, os.Stdin, os.Stdout, os.Stderr))
}

// startCdp starts cdp with args as a real process (this test binary running
// TestSyncHelperProcess), with its stderr collected.
func startCdp(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSyncHelperProcess$")
	cmd.Env = append(os.Environ(), "CDP_SYNC_HELPER_ARGS="+string(raw))
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stderr
}

// waitPosts waits until hook has received n requests from the cdp process cmd, at most a
// minute.
func waitPosts(t *testing.T, hook *hookServer, n int, cmd *exec.Cmd, stderr *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for posts, _ := hook.counts(); posts < n; posts, _ = hook.counts() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("cdp sent %d batches in a minute; stderr: %s", posts, stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestSyncKilled runs cdp sync run as a real process against a slow server, kills it with
// SIGKILL part-way, runs it again, and checks that every row arrived and that at most the
// batches in flight at the kill were sent twice.
func TestSyncKilled(t *testing.T) {
	const rows, batch, inFlight = 3000, 10, 2
	hook := newHookServer(t)
	hook.delay = 15 * time.Millisecond
	dir := writeSyncProject(t, rows, hook.URL, fmt.Sprintf("      batch_size: %d\n      concurrency: %d\n", batch, inFlight))

	cmd, stderr := startCdp(t, "--project-dir", dir, "sync", "run", "vips")
	waitPosts(t, hook, 40, cmd, stderr)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed: %v; stderr: %s", err, stderr.String())
	}
	postsAtKill, seenAtKill := hook.counts()
	if len(seenAtKill) >= rows {
		t.Fatalf("the sync finished before the kill")
	}

	hook.mu.Lock()
	hook.delay = 0
	hook.mu.Unlock()
	code, out, errOut := cdp(t, dir, "sync", "run", "vips")
	if code != ExitOK {
		t.Fatalf("rerun exited %d:\n%s%s", code, out, errOut)
	}
	posts, seen := hook.counts()
	if len(seen) != rows {
		t.Errorf("%d of %d rows arrived", len(seen), rows)
	}
	dup := 0
	for k, n := range seen {
		if n > 2 {
			t.Errorf("%s arrived %d times", k, n)
		}
		if n == 2 {
			dup++
		}
	}
	t.Logf("killed after %d batches (%d rows); rerun sent %d batches; %d rows arrived twice", postsAtKill, len(seenAtKill), posts-postsAtKill, dup)
	if dup > inFlight*batch {
		t.Errorf("%d rows arrived twice: more than the %d batches of %d in flight", dup, inFlight, batch)
	}
	if code, out, _ := cdp(t, dir, "sync", "plan", "vips", "--detailed-exitcode"); code != ExitOK {
		t.Errorf("plan after the rerun exited %d:\n%s", code, out)
	}
}
