package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fingerprintSQL sums up everything a load leaves behind: the raw rows (which messages, from
// which file and line), the quarantine, and the ledger with its per-file counts. Two warehouses
// with the same fingerprint hold the same load.
const fingerprintSQL = `select
	(select count(*) from raw.events) as events,
	(select count(distinct message_id) from raw.events) as message_ids,
	(select sum(hash(message_id)) from raw.events) as message_id_hash,
	(select sum(hash(message_id, source_file, source_line)) from raw.events) as row_hash,
	(select count(*) from raw.events_quarantine) as quarantined,
	(select count(distinct (source_file, line)) from raw.events_quarantine) as quarantined_lines,
	(select sum(hash(source_file, line, reason)) from raw.events_quarantine) as quarantine_hash,
	(select count(*) from _cdp.load_ledger) as ledger_files,
	(select sum(rows_read) from _cdp.load_ledger) as ledger_rows,
	(select sum(rows_loaded) from _cdp.load_ledger) as ledger_loaded,
	(select sum(duplicates) from _cdp.load_ledger) as ledger_duplicates,
	(select sum(quarantined) from _cdp.load_ledger) as ledger_quarantined`

// consistencySQL is true when what the ledger says was committed is exactly what the tables
// hold: a file is in the ledger if and only if its rows are in raw.events and its bad lines in
// the quarantine.
const consistencySQL = `select
	(select count(*) from raw.events) = (select coalesce(sum(rows_loaded), 0) from _cdp.load_ledger)
	and (select count(*) from raw.events_quarantine) = (select coalesce(sum(quarantined), 0) from _cdp.load_ledger)
	and (select count(distinct source_file) from raw.events) <= (select count(*) from _cdp.load_ledger)
	and (select count(*) from raw.events) = (select count(distinct message_id) from raw.events) as consistent,
	(select count(*) from _cdp.load_ledger) as files`

// TestKill9DuringLoad: a `cdp load` killed with SIGKILL at any moment, then run again, leaves
// exactly what one clean run leaves. Generated data split into several files is loaded once
// cleanly into one project. Into another, the same load is started and SIGKILLed after a random
// delay, again and again (each run skips the files committed before it, so the kills move through
// the data), and then run to completion. After every kill the warehouse must open and its ledger
// must match its tables; at the end the two warehouses must have the same fingerprint.
//
// CDP_KILL_SEED=N replays a particular sequence of delays (the seed is logged).
func TestKill9DuringLoad(t *testing.T) {
	t.Parallel()
	seed := uint64(20261101)
	if s := os.Getenv("CDP_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CDP_KILL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("kill delays from seed %d (rerun with CDP_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	work := t.TempDir()
	data := filepath.Join(work, "data")
	gen := mustCdp(t, work, "generate", "events", "--persons", "2500", "--seed", "11", "--file-events", "4000", "--out", data, "--json")
	files := strings.Count(gen, ".ndjson\"")
	if files < 8 {
		t.Fatalf("want at least 8 data files, generate wrote:\n%s", gen)
	}

	clean := newProject(t, "clean")
	start := time.Now()
	mustCdp(t, clean, "load", "events", data, "--quiet")
	cleanRun := time.Since(start)
	want := mustCdp(t, clean, "sql", fingerprintSQL, "--format", "csv")
	t.Logf("clean run: %v\n%s", cleanRun.Round(time.Millisecond), want)

	killed := newProject(t, "killed")
	const kills = 12
	perFile := float64(cleanRun) / float64(files)
	runs, interrupted, committed := 0, 0, 0
	for i := 0; i < kills && committed < files; i++ {
		runs++
		// A random point within the next two files' worth of a clean run: each run commits a file
		// or so before it dies, and the kills land in start-up, staging, classification and
		// commits alike. The first kill comes very early, before the tables may even exist.
		span := 2 * perFile
		if i == 0 {
			span = perFile / 4
		}
		delay := time.Duration(rng.Float64() * span)
		cmd := cdpCommand(t, killed, "load", "events", data, "--quiet")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			interrupted++
		} else if err != nil {
			t.Fatalf("kill %d: load failed on its own before the kill after %v: %v", i, delay, err)
		}
		committed = checkConsistent(t, killed, fmt.Sprintf("after kill %d at %v", i, delay.Round(time.Millisecond)))
		t.Logf("kill %d after %v: %d of %d files committed", i, delay.Round(time.Millisecond), committed, files)
	}
	if interrupted == 0 {
		t.Fatalf("no load was interrupted by its SIGKILL; the kills came too late to test anything")
	}
	t.Logf("%d of %d loads were killed mid-run", interrupted, runs)

	final := mustCdp(t, killed, "load", "events", data, "--json")
	if !strings.Contains(final, `"files_failed": 0,`) {
		t.Errorf("final load:\n%s", final)
	}
	got := mustCdp(t, killed, "sql", fingerprintSQL, "--format", "csv")
	if got != want {
		t.Errorf("after kills and a final run the warehouse differs from one clean run:\n got %s\nwant %s", got, want)
	}
	// And a further run is a no-op.
	again := mustCdp(t, killed, "load", "events", data, "--json")
	if !strings.Contains(again, `"files_loaded": 0,`) || !strings.Contains(again, `"loaded": 0,`) {
		t.Errorf("a load after the final one did something:\n%s", again)
	}
}

// checkConsistent fails unless the warehouse of the project opens and its ledger agrees with its
// tables, and returns how many files the ledger holds. A warehouse killed before it created the
// tables has nothing to check.
func checkConsistent(t *testing.T, proj, when string) int {
	t.Helper()
	res := runCdp(t, proj, "sql", consistencySQL, "--format", "csv")
	if res.code != 0 {
		if strings.Contains(res.stderr, "does not exist") {
			return 0
		}
		t.Fatalf("%s: the warehouse does not answer: exit %d\n%s", when, res.code, res.stderr)
	}
	if !strings.HasPrefix(res.stdout, "consistent,files\ntrue,") {
		t.Fatalf("%s: ledger and tables disagree:\n%s\n%s", when, res.stdout,
			mustCdp(t, proj, "sql", "select file, rows_loaded, quarantined from _cdp.load_ledger order by file", "--format", "csv"))
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(res.stdout, "consistent,files\ntrue,")))
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	return n
}
