package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWarehouseLockAcrossProcesses: while one cdp process writes to a DuckDB warehouse, another
// cdp process on the same warehouse fails at once with exit 1, naming the holder's pid and
// command, instead of waiting or corrupting anything; once the first finishes, the warehouse is
// free again and the first process's load is complete.
//
// The first load reads a named pipe, so it holds the lock exactly as long as the test keeps the
// pipe open: no timing guesses.
func TestWarehouseLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	proj := newProject(t, "shop")
	fifo := filepath.Join(proj, "incoming.ndjson")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	other := filepath.Join(proj, "other.ndjson")
	writeLines(t, other, 1, 3)

	holder := cdpCommand(t, proj, "load", "events", "incoming.ndjson", "--json")
	var holderOut, holderErr strings.Builder
	holder.Stdout, holder.Stderr = &holderOut, &holderErr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- holder.Wait() }()
	// Whatever happens below, never leave the holder blocked on its pipe.
	var pipe *os.File
	t.Cleanup(func() {
		if pipe == nil {
			_ = holder.Process.Kill()
		}
		<-done
	})

	dbPath := filepath.Join(proj, ".cdp", "warehouse.duckdb")
	lockPath := dbPath + ".lock"
	pid := holder.Process.Pid
	wantContent := fmt.Sprintf("%d\ncdp load events\n", pid)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(lockPath)
		if string(b) == wantContent {
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the holding load exited before taking the lock: %v\nstdout:\n%s\nstderr:\n%s", err, holderOut.String(), holderErr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("lock file %s still has %q, want %q", lockPath, b, wantContent)
		}
		time.Sleep(10 * time.Millisecond)
	}

	wantErr := fmt.Sprintf("Error: warehouse %s is in use by pid %d (cdp load events); wait for it to finish or stop it, then retry\n", dbPath, pid)
	for _, args := range [][]string{
		{"load", "events", "other.ndjson"},
		{"sql", "select 1"},
		{"sql", "select 1", "--json"},
		{"--project-dir", proj, "load", "events", other},
	} {
		dir := proj
		if args[0] == "--project-dir" {
			dir = t.TempDir()
		}
		res := runCdp(t, dir, args...)
		if res.code != 1 || res.stderr != wantErr || res.stdout != "" {
			t.Errorf("cdp %s while the warehouse is held:\nexit %d, stdout %q\nstderr %q\nwant exit 1, no stdout, stderr %q",
				strings.Join(args, " "), res.code, res.stdout, res.stderr, wantErr)
		}
	}

	// Let the holder finish: feed the pipe and close it.
	var err error
	pipe, err = os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(pipe, `{"messageId":"p%d","type":"track","event":"Piped","anonymousId":"a","timestamp":"2026-10-01T00:00:00Z"}`+"\n", i)
	}
	if err := pipe.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("holding load: %v\nstdout:\n%s\nstderr:\n%s", err, holderOut.String(), holderErr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the holding load did not finish after its input was closed")
	}
	if !strings.Contains(holderOut.String(), `"loaded": 5,`) {
		t.Errorf("holding load output lacks \"loaded\": 5:\n%s", holderOut.String())
	}
	if b, err := os.ReadFile(lockPath); err != nil || len(b) != 0 {
		t.Errorf("lock file after release: %q, %v; want it empty", b, err)
	}

	// The warehouse is free: the refused load now runs, and nothing was half-done before.
	out := mustCdp(t, proj, "load", "events", "other.ndjson", "--json")
	if !strings.Contains(out, `"loaded": 3,`) {
		t.Errorf("load after release:\n%s", out)
	}
	out = mustCdp(t, proj, "sql", "select count(*) as n, count(distinct load_id) as loads from raw.events", "--format", "csv")
	if out != "n,loads\n8,2\n" {
		t.Errorf("raw.events after both loads: %q, want 8 rows from 2 loads", out)
	}
	out = mustCdp(t, proj, "sql", "select count(*) as n from _cdp.load_ledger", "--format", "csv")
	if out != "n\n2\n" {
		t.Errorf("ledger after both loads: %q, want 2 files", out)
	}
}

// writeLines writes Segment track events with messageIds m<from>..m<to> to path.
func writeLines(t *testing.T, path string, from, to int) {
	t.Helper()
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(`{"messageId":"m` + strconv.Itoa(i) + `","type":"track","event":"E","userId":"u","timestamp":"2026-10-01T00:00:00Z"}` + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
