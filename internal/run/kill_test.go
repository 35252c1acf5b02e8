package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

const (
	helperEnv     = "CDP_RUN_TEST_HELPER"
	helperPathEnv = "CDP_RUN_TEST_PATH"
)

// slowSQL returns a lot of rows and then never finishes.
const slowSQL = "select range as x from range(3000000)\nunion all\nselect a.range from range(1000000) a, range(1000000) b where hash(a.range, b.range) = 0"

func killNodes(sql string) []*compile.Node {
	return []*compile.Node{model("a", "table", sql, "source:raw.a")}
}

// TestHelperProcess is not a test: TestKilledBuildKeepsOldTable runs the test binary again with
// helperEnv set, to run a build in a process it can kill.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "slowbuild" {
		return
	}
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, warehouse.Config{Type: "duckdb", Path: os.Getenv(helperPathEnv)})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	nodes, byID := projectOf(killNodes(slowSQL)...)
	r := &Runner{WH: wh, Nodes: byID, Reporter: startPrinter{}}
	sum, err := r.Run(ctx, nodes, nil)
	fmt.Printf("the endless build ended: %v %+v\n", err, sum)
	os.Exit(3)
}

type startPrinter struct{}

func (startPrinter) NodeStarted(r Result) { fmt.Println("started " + r.ID) }
func (startPrinter) NodeDone(Result)      {}

func TestKilledBuildKeepsOldTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, warehouse.Config{Type: "duckdb", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	source(t, wh, "raw", "a", "select range as x from range(1000)")
	first := killNodes("select x from raw.a")
	if r := result(t, run(t, wh, first), "model.a"); r.Status != StatusSuccess || r.Rows != 1000 {
		t.Fatalf("first build: %+v", r)
	}
	stateBefore := queryStrings(t, wh, "select node_id, fingerprint, input_versions from _cdp.model_state")
	if err := wh.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=slowbuild", helperPathEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 10)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	select {
	case line := <-lines:
		if line != "started model.a" {
			t.Fatalf("helper said %q; stderr:\n%s", line, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the helper never started the build; stderr:\n%s", stderr.String())
	}
	// Let it get well into writing the tmp table.
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die of SIGKILL (it finished early?): %v; stdout: %v", err, <-lines)
	}

	wh, err = duckdb.Open(ctx, warehouse.Config{Type: "duckdb", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if got := queryStrings(t, wh, "select count(*), min(x), max(x) from main.a"); !cmp.Equal(got, []string{"1000|0|999"}) {
		t.Errorf("old table after a killed build = %v, want all 1000 rows", got)
	}
	if got := queryStrings(t, wh, "select node_id, fingerprint, input_versions from _cdp.model_state"); !cmp.Equal(got, stateBefore) {
		t.Errorf("model state after a killed build:\n%s", cmp.Diff(stateBefore, got))
	}
	if v, err := state.DataVersion(ctx, wh, warehouse.Relation{Schema: "main", Name: "a"}); err != nil || v != 1 {
		t.Errorf("data version = %d, %v; want 1", v, err)
	}
	// Nothing changed as far as the last completed build knows; a new definition builds over
	// whatever the killed run left behind.
	if r := result(t, run(t, wh, first), "model.a"); r.Status != StatusSkippedUnchanged {
		t.Errorf("after the kill, unchanged model: %+v", r)
	}
	if r := result(t, run(t, wh, killNodes("select x * 2 as x from raw.a")), "model.a"); r.Status != StatusSuccess || r.Rows != 1000 {
		t.Errorf("rebuild after the kill: %+v", r)
	}
	if got := queryStrings(t, wh, "select max(x) from main.a"); !cmp.Equal(got, []string{"1998"}) {
		t.Errorf("after the rebuild: %v", got)
	}
}
