package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Reporter follows a load's progress; the CLI renders it as a bar or plain lines.
type Reporter interface {
	// Start is called once with the files to load and their total size on disk.
	Start(files int, bytes int64)
	// FileStarted is called before a file is read.
	FileStarted(path string, size int64)
	// Bytes reports how much of the current file has been read.
	Bytes(n int64)
	// FileDone is called after a file is committed, skipped or failed.
	FileDone(FileResult)
}

// Options is one `cdp load` invocation.
type Options struct {
	Source   *config.Source
	Files    []string // already expanded by ExpandPaths
	Reporter Reporter // optional
}

// FileResult is what happened to one file.
type FileResult struct {
	File          string           `json:"file"`
	Checksum      string           `json:"checksum,omitempty"`
	Status        string           `json:"status"` // loaded, skipped (already loaded), failed
	AlreadyLoaded string           `json:"already_loaded_as,omitempty"`
	Rows          int64            `json:"rows"`
	Loaded        int64            `json:"loaded"`
	Duplicates    int64            `json:"duplicates"`
	Quarantined   int64            `json:"quarantined"`
	ByReason      map[string]int64 `json:"quarantined_by_reason,omitempty"`
	Bytes         int64            `json:"bytes"`
	Seconds       float64          `json:"seconds"`
	Error         string           `json:"error,omitempty"`
}

// Summary is the whole load.
type Summary struct {
	Source        string           `json:"source"`
	Relation      string           `json:"relation"`
	Quarantine    string           `json:"quarantine_relation"`
	Files         int              `json:"files"`
	FilesLoaded   int              `json:"files_loaded"`
	FilesSkipped  int              `json:"files_skipped"`
	FilesFailed   int              `json:"files_failed"`
	Rows          int64            `json:"rows"`
	Loaded        int64            `json:"loaded"`
	Duplicates    int64            `json:"duplicates"`
	Quarantined   int64            `json:"quarantined"`
	ByReason      map[string]int64 `json:"quarantined_by_reason"`
	Bytes         int64            `json:"bytes"`
	Seconds       float64          `json:"seconds"`
	RowsPerSecond float64          `json:"rows_per_second"`
	PerFile       []FileResult     `json:"per_file"`
}

// Relations returns the raw table and the quarantine table of a source.
func Relations(src *config.Source) (raw, quarantine warehouse.Relation) {
	schema := src.Schema
	if schema == "" {
		schema = "raw"
	}
	return warehouse.Relation{Schema: schema, Name: src.Name},
		warehouse.Relation{Schema: schema, Name: src.Name + "_quarantine"}
}

// Run loads files into the source's raw table, one transaction per file. It keeps going after a
// file fails and returns an error naming every failed file.
func Run(ctx context.Context, wh warehouse.Warehouse, opts Options) (*Summary, error) {
	start := time.Now()
	src := opts.Source
	rep := opts.Reporter
	if rep == nil {
		rep = nopReporter{}
	}
	d := wh.Dialect()
	lay, err := layoutFor(d, src)
	if err != nil {
		return nil, err
	}
	raw, quar := Relations(src)
	sum := &Summary{Source: src.Name, Relation: raw.String(), Quarantine: quar.String(), Files: len(opts.Files), ByReason: map[string]int64{}}
	if err := state.Ensure(ctx, wh); err != nil {
		return nil, err
	}
	target, err := ensureTables(ctx, wh, lay, raw, quar)
	if err != nil {
		return nil, err
	}
	sizes, total := fileSizes(opts.Files)
	rep.Start(len(opts.Files), total)
	var failures []error
	// Each file is staged while the one before it commits: staging is Go reading and appending,
	// and a commit (compressing and writing the rows) keeps about one core busy, so the two share
	// the machine well. Started earlier, staging slowed the classification, which uses every core.
	stages := make([]<-chan stagedFile, len(opts.Files))
	consumed := make([]bool, len(opts.Files))
	defer func() {
		// A run that stops early still waits for the file being staged ahead, and drops it.
		for i, ch := range stages {
			if ch != nil && !consumed[i] {
				st := <-ch
				_ = wh.DropStaged(context.Background(), "s_"+st.loadID)
			}
		}
	}()
	startStage := func(i int, progress func(int64)) {
		if i < len(opts.Files) && stages[i] == nil {
			stages[i] = stageFile(ctx, wh, lay, opts.Files[i], progress)
		}
	}
	for i, file := range opts.Files {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rep.FileStarted(file, sizes[i])
		startStage(i, rep.Bytes)
		st := <-stages[i]
		consumed[i] = true
		fr := loadFile(ctx, wh, src, lay, raw, target, quar, file, st, func() { startStage(i+1, nil) })
		startStage(i+1, nil)
		rep.FileDone(fr)
		sum.PerFile = append(sum.PerFile, fr)
		sum.Bytes += fr.Bytes
		switch fr.Status {
		case "loaded":
			sum.FilesLoaded++
			sum.Rows += fr.Rows
			sum.Loaded += fr.Loaded
			sum.Duplicates += fr.Duplicates
			sum.Quarantined += fr.Quarantined
			for r, n := range fr.ByReason {
				sum.ByReason[r] += n
			}
		case "skipped":
			sum.FilesSkipped++
		default:
			sum.FilesFailed++
			failures = append(failures, fmt.Errorf("%s: %s", file, fr.Error))
			if ctx.Err() != nil {
				return sum, errors.Join(failures...)
			}
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.RowsPerSecond = float64(sum.Rows) / sum.Seconds
	}
	if len(failures) > 0 {
		return sum, fmt.Errorf("%d of %d files failed to load (nothing from them was committed; fix and re-run, loaded files are skipped):\n%w",
			len(failures), len(opts.Files), errors.Join(failures...))
	}
	return sum, nil
}

// stagedFile is a file staged by stageFile, ready for loadFile.
type stagedFile struct {
	loadID  string
	res     warehouse.LoadResult
	err     error
	started time.Time
}

// stageFile stages a file in the background; the result arrives on the channel.
func stageFile(ctx context.Context, wh warehouse.Warehouse, lay *layout, file string, progress func(int64)) <-chan stagedFile {
	out := make(chan stagedFile, 1)
	go func() {
		st := stagedFile{loadID: newLoadID(), started: time.Now()}
		st.res, st.err = wh.Load(ctx, warehouse.LoadRequest{Path: file, Format: lay.stage, Name: "s_" + st.loadID, Progress: progress})
		out <- st
	}()
	return out
}

// loadFile classifies a staged file and commits its rows into target (the raw table, or the
// table under the raw view) and its quarantined rows, ledger entry and raw's new data version.
// beforeCommit is called just before the commit.
func loadFile(ctx context.Context, wh warehouse.Warehouse, src *config.Source, lay *layout, raw, target, quar warehouse.Relation, file string, st stagedFile, beforeCommit func()) (fr FileResult) {
	start := st.started
	fr = FileResult{File: file}
	defer func() { fr.Seconds = time.Since(start).Seconds() }()
	fail := func(err error) FileResult {
		fr.Status = "failed"
		fr.Error = err.Error()
		return fr
	}
	loadID := st.loadID
	stageName, className := "s_"+loadID, "c_"+loadID
	defer func() {
		// Scratch tables live in the staging area; dropping them is tidiness, not correctness.
		_ = wh.DropStaged(context.Background(), stageName)
		_ = wh.DropStaged(context.Background(), className)
	}()
	staged, err := st.res, st.err
	if err != nil {
		return fail(err)
	}
	fr.Checksum, fr.Bytes = staged.Checksum, staged.Bytes
	if prev, ok, err := state.LoadedFile(ctx, wh, src.Name, staged.Checksum); err != nil {
		return fail(err)
	} else if ok {
		fr.Status, fr.AlreadyLoaded = "skipped", prev
		return fr
	}
	d := wh.Dialect()
	classified, err := lay.classified(staged.Table, staged.Header)
	if err != nil {
		return fail(err)
	}
	class := wh.Staged(className)
	if err := wh.Exec(ctx, fmt.Sprintf("CREATE TABLE %s AS %s", class, classified)); err != nil {
		return fail(fmt.Errorf("classify rows: %w", err))
	}
	dups := wh.Staged("d_" + loadID)
	defer func() { _ = wh.DropStaged(context.Background(), "d_"+loadID) }()
	if err := markDuplicates(ctx, wh, lay, target, class, dups); err != nil {
		return fail(fmt.Errorf("find duplicates: %w", err))
	}
	if err := countRows(ctx, wh, class, dups, &fr); err != nil {
		return fail(err)
	}
	cols := make([]string, 0, len(lay.columns)+4)
	sel := make([]string, 0, cap(cols))
	for _, c := range lay.columns {
		if isVirtual(d, c) {
			continue
		}
		cols = append(cols, d.QuoteIdent(c.name))
		if c.fromOriginal {
			sel = append(sel, "original_text")
		} else {
			sel = append(sel, d.QuoteIdent(c.name))
		}
	}
	for _, m := range metaColumns(d, file, loadID) {
		cols = append(cols, d.QuoteIdent(m.name))
		sel = append(sel, m.expr)
	}
	name := filepath.ToSlash(file)
	stmts := []string{
		fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE failed = 0 AND line NOT IN (SELECT line FROM %s)",
			d.Relation(target), strings.Join(cols, ", "), strings.Join(sel, ", "), class, dups),
		fmt.Sprintf(`INSERT INTO %s (load_id, source_file, line, reason, detail, original_text, original_bytes, quarantined_at)
			SELECT %s, %s, line, reason, detail, original_text, original_bytes, %s FROM %s WHERE failed > 0`,
			d.Relation(quar), d.QuoteString(loadID), d.QuoteString(name), d.Now(), class),
		state.InsertLedger(d, state.LedgerEntry{
			Source: src.Name, Checksum: staged.Checksum, File: name, LoadID: loadID, Bytes: staged.Bytes,
			RowsRead: fr.Rows, RowsLoaded: fr.Loaded, Duplicates: fr.Duplicates, Quarantined: fr.Quarantined,
		}),
	}
	if fr.Loaded > 0 {
		// Models reading the raw table rebuild only when its data version moved.
		stmts = append(stmts, state.BumpDataVersion(d, raw, "load "+name))
	}
	beforeCommit()
	err = wh.ExecAtomic(ctx, stmts...)
	if err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	fr.Status = "loaded"
	return fr
}

// markDuplicates stores the lines of good rows whose key was seen before: earlier in the same
// file, or in any earlier load (Segment semantics: a repeated messageId is a client retry, not a
// new event). An aggregate over just (key, line) is used rather than a window over whole rows,
// which would drag every payload through a sort.
func markDuplicates(ctx context.Context, wh warehouse.Warehouse, lay *layout, raw warehouse.Relation, class, dups string) error {
	if lay.dedupeKey == "" {
		return wh.Exec(ctx, "CREATE TABLE "+dups+" AS SELECT line FROM "+class+" WHERE FALSE")
	}
	d := wh.Dialect()
	k := d.QuoteIdent(lay.dedupeKey)
	return wh.Exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s AS
WITH firsts AS (
	SELECT %[2]s AS k, min(line) AS first_line FROM %[3]s
	WHERE failed = 0 AND %[2]s IS NOT NULL GROUP BY %[2]s
)
SELECT c.line FROM %[3]s c JOIN firsts f ON c.%[2]s = f.k
WHERE c.failed = 0 AND c.line <> f.first_line
UNION ALL
SELECT first_line FROM firsts WHERE k IN (SELECT %[2]s FROM %[4]s)`, dups, k, class, d.Relation(raw)))
}

func countRows(ctx context.Context, wh warehouse.Warehouse, class, dups string, fr *FileResult) error {
	rows, err := wh.Query(ctx, fmt.Sprintf(`SELECT coalesce(reason, '~loaded') AS k, count(*) FROM %s GROUP BY 1
		UNION ALL SELECT '~duplicate', count(*) FROM %s`, class, dups))
	if err != nil {
		return fmt.Errorf("count rows: %w", err)
	}
	defer rows.Close()
	fr.ByReason = map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		fr.Rows += n
		switch k {
		case "~loaded":
			fr.Loaded += n
		case "~duplicate":
			fr.Duplicates = n
			fr.Loaded -= n
			fr.Rows -= n // already counted among the good rows
		default:
			fr.Quarantined += n
			fr.ByReason[k] = n
		}
	}
	return rows.Err()
}

// ensureTables creates the raw and quarantine tables, and adds columns a contract gained since
// the table was created. A column whose type changed is an error: changing it in place could
// silently reinterpret loaded data. It returns the table that rows are inserted into.
//
// When the layout has columns computed from the payload on read (context, properties and traits
// of Segment events), the raw relation is a view that computes them over a table of the stored
// columns, SOURCE_stored. They used to be virtual columns of the raw table itself, but DuckDB
// evaluates a virtual column's expression for every inserted row to check that it would not fail
// on read: that parsed and re-serialized each payload three more times, a fifth of a load's CPU
// time. Raw tables created that way are still loaded as they are.
func ensureTables(ctx context.Context, wh warehouse.Warehouse, lay *layout, raw, quar warehouse.Relation) (warehouse.Relation, error) {
	d := wh.Dialect()
	if err := wh.Exec(ctx, d.CreateSchema(raw.Schema)); err != nil {
		return raw, err
	}
	want := append(append([]column{}, lay.columns...), metaColumns(d, "", "")...)
	var stored []column
	for _, c := range want {
		if !isVirtual(d, c) {
			stored = append(stored, c)
		}
	}
	target := raw
	existing, err := wh.Columns(ctx, raw)
	switch {
	case errors.Is(err, warehouse.ErrNotFound) && len(stored) < len(want):
		target = storedRelation(raw)
		if err := wh.ExecAtomic(ctx, createTable(d, target, stored), createView(d, raw, target, want)); err != nil {
			return raw, fmt.Errorf("create %s: %w", raw, err)
		}
	case errors.Is(err, warehouse.ErrNotFound):
		if err := wh.Exec(ctx, createTable(d, raw, want)); err != nil {
			return raw, fmt.Errorf("create %s: %w", raw, err)
		}
	case err != nil:
		return raw, err
	default:
		base, err := wh.Columns(ctx, storedRelation(raw))
		switch {
		case err == nil && len(stored) < len(want) && !slices.ContainsFunc(base, func(c warehouse.Column) bool {
			// A table with the computed columns is another relation that happens to have the name.
			return slices.ContainsFunc(want, func(w column) bool { return w.name == c.Name && isVirtual(d, w) })
		}):
			target = storedRelation(raw)
			added, err := addColumns(ctx, wh, target, base, stored)
			if err != nil {
				return raw, err
			}
			if added {
				if err := wh.Exec(ctx, strings.Replace(createView(d, raw, target, want), "CREATE VIEW", "CREATE OR REPLACE VIEW", 1)); err != nil {
					return raw, fmt.Errorf("update %s: %w", raw, err)
				}
			}
			if err := checkTypes(d, raw, existing, want); err != nil {
				return raw, err
			}
		case err == nil || errors.Is(err, warehouse.ErrNotFound):
			if _, err := addColumns(ctx, wh, raw, existing, want); err != nil {
				return raw, err
			}
		default:
			return raw, err
		}
	}
	t := d.Type
	return target, wh.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		load_id %s, source_file %s, line %s, reason %s, detail %s, original_text %s, original_bytes %s, quarantined_at %s)`,
		d.Relation(quar), t("string"), t("string"), t("integer"), t("string"), t("string"), t("string"), t("blob"), t("timestamp")))
}

// storedRelation is the table under a raw view whose computed columns are read from the payload.
func storedRelation(raw warehouse.Relation) warehouse.Relation {
	return warehouse.Relation{Schema: raw.Schema, Name: raw.Name + "_stored"}
}

// createTable renders the DDL of a raw table, or of the table under a raw view: the columns
// computed on read are left to the view.
func createTable(d warehouse.Dialect, rel warehouse.Relation, cols []column) string {
	defs := make([]string, 0, len(cols))
	for _, c := range cols {
		if !isVirtual(d, c) {
			defs = append(defs, d.QuoteIdent(c.name)+" "+ddlType(d, c))
		}
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n\t%s\n)", d.Relation(rel), strings.Join(defs, ",\n\t"))
}

// createView renders the raw view: every column in the layout's order, the computed ones read
// from the payload.
func createView(d warehouse.Dialect, raw, base warehouse.Relation, cols []column) string {
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = d.QuoteIdent(c.name)
		if isVirtual(d, c) {
			sel[i] = "CAST(" + d.JSONValue(d.QuoteIdent(payloadColumn.name), c.virtualPath) + " AS " + d.Type(c.typ) + ") AS " + d.QuoteIdent(c.name)
		}
	}
	return fmt.Sprintf("CREATE VIEW %s AS SELECT\n\t%s\nFROM %s", d.Relation(raw), strings.Join(sel, ",\n\t"), d.Relation(base))
}

// addColumns adds to the table rel the columns of want it lacks, and checks the types of those
// it has. It reports whether it added any.
func addColumns(ctx context.Context, wh warehouse.Warehouse, rel warehouse.Relation, existing []warehouse.Column, want []column) (bool, error) {
	d := wh.Dialect()
	have := map[string]bool{}
	for _, c := range existing {
		have[c.Name] = true
	}
	added := false
	for _, c := range want {
		if have[c.name] {
			continue
		}
		if isVirtual(d, c) {
			return added, fmt.Errorf("%s has no column %s; it was created by an older cdp: rename it and load again, or add the column yourself", rel, c.name)
		}
		if err := wh.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", d.Relation(rel), d.QuoteIdent(c.name), ddlType(d, c))); err != nil {
			return added, fmt.Errorf("add column %s to %s: %w", c.name, rel, err)
		}
		added = true
	}
	return added, checkTypes(d, rel, existing, want)
}

// checkTypes fails if a column of want that rel has is of another type.
func checkTypes(d warehouse.Dialect, rel warehouse.Relation, existing []warehouse.Column, want []column) error {
	have := map[string]string{}
	for _, c := range existing {
		have[c.Name] = c.Type
	}
	for _, c := range want {
		if typ, ok := have[c.name]; ok && !sameType(typ, d.Type(c.typ)) {
			return fmt.Errorf("%s.%s is %s but the contract now says %s; load into a new source or migrate the column yourself", rel, c.name, typ, d.Type(c.typ))
		}
	}
	return nil
}

// sameType compares engine type names loosely: information_schema spells some types
// differently from DDL (TIMESTAMPTZ vs TIMESTAMP WITH TIME ZONE).
func sameType(have, want string) bool {
	norm := func(s string) string {
		s = strings.ToUpper(s)
		switch s {
		case "TIMESTAMP WITH TIME ZONE":
			return "TIMESTAMPTZ"
		}
		return s
	}
	return norm(have) == norm(want)
}

func fileSizes(files []string) ([]int64, int64) {
	sizes := make([]int64, len(files))
	var total int64
	for i, f := range files {
		if info, err := statFile(f); err == nil {
			sizes[i] = info
			total += info
		}
	}
	return sizes, total
}

func newLoadID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102t150405") + "_" + hex.EncodeToString(b[:])
}

// SortedReasons lists reason codes by count, largest first, for reports.
func SortedReasons(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

type nopReporter struct{}

func (nopReporter) Start(int, int64)          {}
func (nopReporter) FileStarted(string, int64) {}
func (nopReporter) Bytes(int64)               {}
func (nopReporter) FileDone(FileResult)       {}

// isVirtual reports whether the column is computed by the engine rather than stored.
func isVirtual(d warehouse.Dialect, c column) bool {
	return c.virtualPath != "" && d.VirtualColumn(c.name, c.typ, "NULL") != ""
}
