// Package file is the file destination: it writes each run's rows to a CSV or JSON Lines file.
//
//	destination:
//	  type: file
//	  path: exports/{sync}/{run}.csv   # placeholders: {sync}, {run}, {date} (the run's UTC date)
//	  format: csv                      # csv or jsonl; by default from the path's extension
//	  layout: changes                  # changes (default) or snapshot
//
// Layouts:
//
//   - changes: one line per row the run sent, in the order sent, with the columns _key and
//     _action (add, change or remove) before the row's fields.
//   - snapshot: the destination's full current state after the run: one line per key, sorted by
//     key, with _key before the fields; removed keys are gone. A run without changes still
//     writes the whole state, which Close holds in memory to sort it.
//
// The changes layout is written with the memory of one batch whatever the run's size: the
// journal is streamed into the output, and the run remembers a batch ID with the keys it
// rejected, not the keys it wrote.
//
// CSV columns are _key[, _action] and then every field name the file's rows have, sorted; a
// value is written as destination.FormatValue writes it (nil and "" are both an empty cell;
// nested values are JSON). JSON Lines keep the values' types (times as RFC 3339 text).
//
// # Atomic files and crashes
//
// A run's file appears complete or not at all. Write appends each batch to a journal
// (<state_dir>/<sync>.journal, one JSON line per batch) and syncs it to disk before it
// acknowledges the rows; Close renders the output into a hidden temporary file next to the
// target (.<name>.tmp-*), syncs it and renames it into place, then (snapshot layout) replaces
// the state file <state_dir>/<sync>.state and removes the journal.
//
// The sync engine commits rows to its snapshot as soon as they are acknowledged, so the rows of
// a run that crashed before Close must not be lost: the next run of the sync finds the journal
// and carries its complete batches (a torn last line is dropped; its rows were never
// acknowledged) into its own file, before its own rows. A crash between the rename and the
// journal's removal makes the next run's file repeat the previous run's changes: delivery is at
// least once, never lossy. A batch whose ID is already in the run's journal is acknowledged
// without being written again.
//
// state_dir defaults to .cdp-state inside the path's directory before its first placeholder
// (exports/.cdp-state for exports/{sync}/{run}.csv). One process writes a sync at a time; the
// scheduler already never overlaps runs of a sync.
package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/internal/conf"
)

// Spec is the file destination's spec.
var Spec = destination.Spec{
	Name: "file",
	Doc:  "Writes each run's changes, or the full state after it, to a CSV or JSON Lines file, atomically.",
	Fields: []destination.Field{
		{Name: "path", Required: true, Doc: "output file; placeholders {sync}, {run} and {date} (UTC, YYYY-MM-DD)", Example: "exports/{sync}/{run}.csv"},
		{Name: "format", Doc: "csv or jsonl; by default from the path's extension (.csv, .jsonl, .ndjson)", Example: "jsonl"},
		{Name: "layout", Doc: "changes: one line per changed row with an _action column; snapshot: the full state after the run", Default: "changes", Example: "snapshot"},
		{Name: "state_dir", Doc: "directory of the run journal and snapshot state; default .cdp-state in the path's first fixed directory", Example: "exports/.cdp-state"},
	},
	Modes:       []string{"mirror", "upsert", "insert", "audience"},
	BatchSize:   10000,
	Concurrency: 1,
	Timeout:     time.Minute,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a file destination.
type Config struct {
	Path     string // template
	Format   string // csv or jsonl
	Layout   string // changes or snapshot
	StateDir string
}

var placeholder = regexp.MustCompile(`\{([^{}]*)\}`)

// ParseConfig validates a file destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{Path: r.String("path", "")}
	if c.Path != "" {
		for _, m := range placeholder.FindAllStringSubmatch(c.Path, -1) {
			switch m[1] {
			case "sync", "run", "date":
			default:
				r.Failf("path", "unknown placeholder {%s}; use {sync}, {run} or {date}", m[1])
			}
		}
		if strings.HasSuffix(c.Path, "/") || strings.HasSuffix(c.Path, string(filepath.Separator)) {
			r.Failf("path", "%q is a directory; name the file, for example %s", c.Path, filepath.Join(c.Path, "{run}.csv"))
		}
	}
	byExt := ""
	switch strings.ToLower(filepath.Ext(c.Path)) {
	case ".csv":
		byExt = "csv"
	case ".jsonl", ".ndjson", ".json":
		byExt = "jsonl"
	}
	_, set := cfg["format"]
	switch {
	case set:
		c.Format = r.OneOf("format", byExt, "csv", "jsonl")
	case byExt != "":
		c.Format = byExt
	case c.Path != "":
		r.Failf("format", "cannot tell the format from the path %q; set format: csv or format: jsonl", c.Path)
	}
	c.Layout = r.OneOf("layout", "changes", "changes", "snapshot")
	c.StateDir = r.String("state_dir", "")
	if c.StateDir == "" {
		c.StateDir = filepath.Join(staticDir(c.Path), ".cdp-state")
	}
	return c, r.Err()
}

// staticDir is the directory part of the path template before its first placeholder.
func staticDir(tmpl string) string {
	if i := strings.Index(tmpl, "{"); i >= 0 {
		tmpl = tmpl[:i]
		if j := strings.LastIndexAny(tmpl, `/`+string(filepath.Separator)); j >= 0 {
			return filepath.Clean(tmpl[:j+1])
		}
		return "."
	}
	return filepath.Dir(tmpl)
}

// Dest is a file destination. It serves one sync at a time; a Close ends its run and the next
// Start (or Write) begins another.
type Dest struct {
	cfg Config
	now func() time.Time

	mu  sync.Mutex
	run *run
}

type run struct {
	info    destination.RunInfo
	out     string // the output file
	journal string
	seen    map[string]seenBatch // batch ID -> which of its rows are in the journal
	columns map[string]bool      // field names of the journal's rows
}

// seenBatch says which rows of a batch already in the journal were written. A batch written by
// this run keeps only the keys it rejected (usually none), so that memory does not grow with the
// rows a run sends; a batch carried over from a crashed run keeps the keys it wrote, since its
// rejections were not recorded.
type seenBatch struct {
	written  map[string]bool // set for carried-over batches
	rejected map[string]bool
}

func (s seenBatch) wasWritten(key string) bool {
	if s.written != nil {
		return s.written[key]
	}
	return !s.rejected[key]
}

var _ destination.Destination = (*Dest)(nil)
var _ destination.Closer = (*Dest)(nil)
var _ destination.Starter = (*Dest)(nil)

// New makes a file destination from its config.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Dest{cfg: c, now: time.Now}, nil
}

// Spec returns the file destination's spec.
func (d *Dest) Spec() destination.Spec { return Spec }

// Config returns the parsed configuration.
func (d *Dest) Config() Config { return d.cfg }

// OutputPath returns the file the current run writes, "" before Start or the first Write.
func (d *Dest) OutputPath() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run == nil {
		return ""
	}
	return d.run.out
}

// Start begins a run: it names the output file and carries into the run the acknowledged
// batches of a run of the same sync that never reached Close.
func (d *Dest) Start(ctx context.Context, info destination.RunInfo) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run != nil {
		return fmt.Errorf("file destination: run %q of sync %q is still open; Close it before starting run %q", d.run.info.ID, d.run.info.Sync, info.ID)
	}
	return d.start(info)
}

func (d *Dest) start(info destination.RunInfo) error {
	if info.Sync == "" {
		return errors.New("file destination: a run needs the sync's name")
	}
	if info.Started.IsZero() {
		info.Started = d.now()
	}
	if info.ID == "" {
		info.ID = info.Started.UTC().Format("20060102T150405.000Z")
	}
	r := &run{
		info:    info,
		journal: filepath.Join(d.cfg.StateDir, safeName(info.Sync)+".journal"),
		seen:    map[string]seenBatch{},
		columns: map[string]bool{},
	}
	r.out = placeholder.ReplaceAllStringFunc(d.cfg.Path, func(p string) string {
		switch p {
		case "{sync}":
			return safeName(info.Sync)
		case "{run}":
			return safeName(info.ID)
		case "{date}":
			return info.Started.UTC().Format("2006-01-02")
		}
		return p
	})
	if err := os.MkdirAll(d.cfg.StateDir, 0o755); err != nil {
		return fmt.Errorf("file destination: state_dir: %w", err)
	}
	// Carry over the batches of an unfinished run, under a new header, atomically: the new
	// journal is written beside the old one, a line at a time, and renamed over it.
	hdr, _ := json.Marshal(journalHeader{Run: info.ID, Sync: info.Sync, Started: info.Started, Path: r.out})
	err := writeFileAtomicFunc(r.journal, func(w io.Writer) error {
		if _, err := w.Write(append(hdr, '\n')); err != nil {
			return err
		}
		err := scanJournal(r.journal, func(line []byte, b journalBatch) error {
			if _, err := w.Write(line); err != nil {
				return err
			}
			if b.Batch != "" && r.seen[b.Batch].written == nil {
				r.seen[b.Batch] = seenBatch{written: map[string]bool{}}
			}
			for _, row := range b.Rows {
				if b.Batch != "" {
					r.seen[b.Batch].written[row.Key] = true
				}
				for k := range row.Fields {
					r.columns[k] = true
				}
			}
			return nil
		})
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the journal of an unfinished run: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("file destination: journal: %w", err)
	}
	d.run = r
	return nil
}

// journalHeader is the first line of a journal.
type journalHeader struct {
	Run     string    `json:"run"`
	Sync    string    `json:"sync"`
	Started time.Time `json:"started"`
	Path    string    `json:"path"`
}

// journalBatch is one acknowledged batch, one line of a journal.
type journalBatch struct {
	Batch string       `json:"batch"`
	Rows  []journalRow `json:"rows"`
}

type journalRow struct {
	Key    string             `json:"key"`
	Action destination.Action `json:"action"`
	Fields map[string]any     `json:"fields"`
}

// scanJournal calls fn with each complete batch line of a journal (the line with its newline,
// and the batch it holds), one at a time, so that a journal of millions of rows is never held
// whole; a torn or unreadable line ends it.
func scanJournal(path string, fn func(line []byte, b journalBatch) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for first := true; ; first = false {
		line, err := br.ReadBytes('\n')
		if err != nil { // io.EOF: a last line without its newline is torn
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if first {
			continue // the header of the unfinished run
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var b journalBatch
		if dec.Decode(&b) != nil {
			return nil
		}
		if err := fn(line, b); err != nil {
			return err
		}
	}
}

// reserved are the column names the layouts use; rows may not have fields by these names.
var reserved = map[string]bool{"_key": true, "_action": true}

// Write appends the batch to the run's journal, synced to disk, and acknowledges its rows. A
// row whose fields cannot be written (a field named _key or _action, a NaN) is Rejected.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("file destination: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run == nil {
		if err := d.start(destination.RunInfo{Sync: b.Sync}); err != nil {
			return destination.Result{}, err
		}
	}
	r := d.run
	if b.Sync != "" && b.Sync != r.info.Sync {
		return destination.Result{}, fmt.Errorf("file destination: run %q is for sync %q, got a batch of sync %q; use one destination per sync", r.info.ID, r.info.Sync, b.Sync)
	}
	res := destination.OKResult(len(b.Rows))
	if len(b.Rows) == 0 {
		return res, nil
	}
	if seen, dup := r.seen[b.ID]; dup && b.ID != "" {
		// Already in the journal: acknowledge what was written then, reject the rest again.
		for i, row := range b.Rows {
			if !seen.wasWritten(row.Key) {
				reason := rowProblem(row)
				if reason == "" {
					reason = "not written when this batch was first sent"
				}
				res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
			}
		}
		return res, nil
	}
	var line bytes.Buffer
	line.WriteString(`{"batch":`)
	id, _ := json.Marshal(b.ID)
	line.Write(id)
	line.WriteString(`,"rows":[`)
	n := 0
	for i, row := range b.Rows {
		if reason := rowProblem(row); reason != "" {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
			continue
		}
		enc, err := json.Marshal(journalRow{Key: row.Key, Action: row.Action, Fields: row.Fields})
		if err != nil {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: "cannot encode the row's fields: " + err.Error()}
			continue
		}
		if n > 0 {
			line.WriteByte(',')
		}
		line.Write(enc)
		n++
	}
	line.WriteString("]}\n")
	if n > 0 {
		if err := appendSynced(r.journal, line.Bytes()); err != nil {
			return destination.Result{}, fmt.Errorf("file destination: journal %s: %w", r.journal, err)
		}
	}
	var rejected map[string]bool
	for i, row := range b.Rows {
		if res.Rows[i].Outcome == destination.OK {
			for k := range row.Fields {
				r.columns[k] = true
			}
		} else {
			if rejected == nil {
				rejected = map[string]bool{}
			}
			rejected[row.Key] = true
		}
	}
	if b.ID != "" {
		r.seen[b.ID] = seenBatch{rejected: rejected}
	}
	return res, nil
}

func rowProblem(row destination.Row) string {
	for k := range row.Fields {
		if reserved[k] {
			return fmt.Sprintf("field %q clashes with the file's own %s column; rename it in the sync's field mapping", k, k)
		}
	}
	switch row.Action {
	case destination.Add, destination.Change, destination.Remove:
	default:
		return fmt.Sprintf("unknown action %q", row.Action)
	}
	return ""
}

// appendSynced appends data to path and syncs it; on failure it cuts the file back, so a
// half-written line never precedes the next batch.
func appendSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if err != nil {
		_ = f.Truncate(st.Size())
		f.Close()
		return err
	}
	return f.Close()
}

// Close finishes the run: it writes the output file atomically, updates the snapshot state and
// removes the journal. Without a run (never started, or already closed) it does nothing. When
// it fails, the journal stays and Close may be called again, or the next run carries it over.
func (d *Dest) Close(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.run
	if r == nil {
		return nil
	}
	if err := d.finish(ctx, r); err != nil {
		return fmt.Errorf("file destination: sync %q run %q: %w", r.info.Sync, r.info.ID, err)
	}
	d.run = nil
	return nil
}

func (d *Dest) finish(ctx context.Context, r *run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The changes layout streams the journal into the output, so a run of millions of rows is
	// written with the memory of one batch; the snapshot layout holds the state it writes.
	rows := func(fn func(journalRow) error) error {
		err := scanJournal(r.journal, func(_ []byte, b journalBatch) error {
			for _, row := range b.Rows {
				if err := fn(row); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("reading the journal: %w", err)
		}
		return nil
	}
	var statePath string
	var state map[string]map[string]any
	var keys []string
	colSet := r.columns
	if d.cfg.Layout == "snapshot" {
		statePath = filepath.Join(d.cfg.StateDir, safeName(r.info.Sync)+".state")
		var err error
		if state, err = readState(statePath); err != nil {
			return fmt.Errorf("reading the snapshot state %s: %w", statePath, err)
		}
		err = rows(func(row journalRow) error {
			if row.Action == destination.Remove {
				delete(state, row.Key)
			} else {
				state[row.Key] = row.Fields
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys = make([]string, 0, len(state))
		for k := range state {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		colSet = map[string]bool{}
		for _, k := range keys {
			for c := range state[k] {
				colSet[c] = true
			}
		}
		rows = func(fn func(journalRow) error) error {
			for _, k := range keys {
				if err := fn(journalRow{Key: k, Fields: state[k]}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	columns := make([]string, 0, len(colSet))
	for c := range colSet {
		columns = append(columns, c)
	}
	sort.Strings(columns)

	if err := os.MkdirAll(filepath.Dir(r.out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.out), "."+filepath.Base(r.out)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	w := bufio.NewWriterSize(tmp, 1<<20)
	if d.cfg.Format == "csv" {
		err = writeCSV(ctx, w, rows, columns, d.cfg.Layout == "changes")
	} else {
		err = writeJSONL(ctx, w, rows, columns, d.cfg.Layout == "changes")
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	if statePath != "" {
		err := writeFileAtomicFunc(statePath, func(w io.Writer) error {
			for _, k := range keys {
				line, err := json.Marshal(journalRow{Key: k, Action: destination.Add, Fields: state[k]})
				if err != nil {
					return err
				}
				if _, err := w.Write(append(line, '\n')); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("snapshot state: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), r.out); err != nil {
		return err
	}
	syncDir(filepath.Dir(r.out))
	if err := os.Remove(r.journal); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	syncDir(d.cfg.StateDir)
	return nil
}

func readState(path string) (map[string]map[string]any, error) {
	state := map[string]map[string]any{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return state, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	dec.UseNumber()
	for {
		var row journalRow
		if err := dec.Decode(&row); errors.Is(err, io.EOF) {
			return state, nil
		} else if err != nil {
			return nil, err
		}
		state[row.Key] = row.Fields
	}
}

// rowSource calls its function with each row to write, in order, and stops at its first error.
type rowSource func(fn func(journalRow) error) error

func writeCSV(ctx context.Context, w io.Writer, rows rowSource, columns []string, changes bool) error {
	cw := csv.NewWriter(w)
	header := []string{"_key"}
	if changes {
		header = append(header, "_action")
	}
	header = append(header, columns...)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	i := 0
	err := rows(func(row journalRow) error {
		if i++; i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec = rec[:0]
		rec = append(rec, row.Key)
		if changes {
			rec = append(rec, string(row.Action))
		}
		for _, c := range columns {
			rec = append(rec, destination.FormatValue(row.Fields[c]))
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func writeJSONL(ctx context.Context, w io.Writer, rows rowSource, columns []string, changes bool) error {
	var buf bytes.Buffer
	i := 0
	return rows(func(row journalRow) error {
		if i++; i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		buf.Reset()
		buf.WriteString(`{"_key":`)
		k, _ := json.Marshal(row.Key)
		buf.Write(k)
		if changes {
			buf.WriteString(`,"_action":`)
			a, _ := json.Marshal(row.Action)
			buf.Write(a)
		}
		for _, c := range columns {
			v, ok := row.Fields[c]
			if !ok {
				continue
			}
			name, _ := json.Marshal(c)
			val, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("row %q field %q: %w", row.Key, c, err)
			}
			buf.WriteByte(',')
			buf.Write(name)
			buf.WriteByte(':')
			buf.Write(val)
		}
		buf.WriteString("}\n")
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and renames it over
// path.
func writeFileAtomic(path string, data []byte) error {
	return writeFileAtomicFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeFileAtomicFunc is writeFileAtomic with the content written by write, buffered.
func writeFileAtomicFunc(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(bw); err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename in dir durable where the platform allows it.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		f.Close()
	}
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// safeName makes a sync name or run ID usable as one path element.
func safeName(s string) string {
	s = unsafeChars.ReplaceAllString(s, "_")
	if s == "" || s == "." || s == ".." {
		s = "_" + s
	}
	return s
}

// ReadFile reads a file the destination wrote back into rows, for tests and tools: _key and
// _action become the Row's Key and Action (Add in the snapshot layout), the other columns its
// Fields. format is csv or jsonl, or "" to go by the extension. CSV values are text and an
// empty cell is "" (Go's CSV reader also turns \r\n inside a value into \n); JSON numbers are
// json.Number.
func ReadFile(path, format string) ([]destination.Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []destination.Row
	if format == "csv" || format == "" && strings.EqualFold(filepath.Ext(path), ".csv") {
		cr := csv.NewReader(f)
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("%s: header: %w", path, err)
		}
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			row := destination.Row{Action: destination.Add, Fields: map[string]any{}}
			for i, c := range header {
				switch c {
				case "_key":
					row.Key = rec[i]
				case "_action":
					row.Action = destination.Action(rec[i])
				default:
					row.Fields[c] = rec[i]
				}
			}
			out = append(out, row)
		}
	}
	dec := json.NewDecoder(f)
	dec.UseNumber()
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		row := destination.Row{Action: destination.Add, Fields: m}
		if k, ok := m["_key"].(string); ok {
			row.Key = k
		}
		if a, ok := m["_action"].(string); ok {
			row.Action = destination.Action(a)
		}
		delete(m, "_key")
		delete(m, "_action")
		out = append(out, row)
	}
}
