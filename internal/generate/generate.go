package generate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Options configures Events. The zero value of every optional field means its default.
type Options struct {
	Persons int    // number of real people
	Seed    int64  // same Seed and Options => byte-identical output
	Out     string // output directory (created if missing)
	// End: events fall in the Days before End. Default DefaultEnd (fixed, so output is deterministic).
	End  time.Time
	Days int // default 90
	Gzip bool
	// FileEvents is the maximum number of lines per output file (events-00001.ndjson, ...);
	// default 1_000_000. Bad and duplicate lines count as lines.
	FileEvents int
	// BadRate is the share of lines made deliberately bad (truncated JSON, invalid UTF-8, missing
	// messageId, unparsable timestamp, unknown type, cycled). Default 0.
	BadRate float64
	// DuplicateRate is the share of events re-sent later with the same messageId and identical
	// payload (client retries). Default 0.
	DuplicateRate float64
	// Progress, if set, is called with the number of persons written so far, from the goroutine
	// that called Events.
	Progress func(persons int)
}

// Summary describes what Events wrote. Paths are Options.Out joined with the file name.
type Summary struct {
	Persons    int      `json:"persons"`
	Events     int      `json:"events"`     // good events (distinct messageIds), each with one truth.csv row
	Bad        int      `json:"bad"`        // deliberately bad lines (not in truth.csv)
	Duplicates int      `json:"duplicates"` // extra copies of good events (same messageId, same bytes)
	Files      []string `json:"files"`      // event files in order
	TruthFile  string   `json:"truth_file"`
}

// Lines is the number of lines in all event files.
func (s Summary) Lines() int { return s.Events + s.Bad + s.Duplicates }

// Defaults.
var DefaultEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const (
	DefaultDays       = 90
	DefaultFileEvents = 1_000_000
	TruthFileName     = "truth.csv"
	TruthHeader       = "message_id,person_id"
)

func (o Options) withDefaults() (Options, error) {
	if o.Persons < 0 {
		return o, fmt.Errorf("generate: persons must be >= 0, got %d", o.Persons)
	}
	if o.Out == "" {
		return o, errors.New("generate: no output directory given")
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	switch {
	case o.Days == 0:
		o.Days = DefaultDays
	case o.Days < 0 || o.Days > maxDays:
		return o, fmt.Errorf("generate: days must be between 1 and %d, got %d", maxDays, o.Days)
	}
	switch {
	case o.FileEvents == 0:
		o.FileEvents = DefaultFileEvents
	case o.FileEvents < 0:
		return o, fmt.Errorf("generate: events per file must be > 0, got %d", o.FileEvents)
	}
	if !(o.BadRate >= 0 && o.BadRate <= 1) {
		return o, fmt.Errorf("generate: bad rate must be between 0 and 1, got %g", o.BadRate)
	}
	if !(o.DuplicateRate >= 0 && o.DuplicateRate <= 1) {
		return o, fmt.Errorf("generate: duplicate rate must be between 0 and 1, got %g", o.DuplicateRate)
	}
	return o, nil
}

// EventFileName is the name of the n-th (1-based) event file.
func EventFileName(n int, gz bool) string {
	name := fmt.Sprintf("events-%05d.ndjson", n)
	if gz {
		name += ".gz"
	}
	return name
}

// Events generates o.Persons synthetic persons and writes their Segment messages to NDJSON files in
// o.Out, plus truth.csv mapping every good messageId to its person. Files are written to temporary
// names and renamed when complete; truth.csv is renamed last, so its presence marks a finished run.
// Event files of earlier runs (events-NNNNN.ndjson[.gz]) that this run did not rewrite are removed.
func Events(ctx context.Context, o Options) (Summary, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return Summary{}, fmt.Errorf("generate: %w", err)
	}
	truthPath := filepath.Join(o.Out, TruthFileName)
	// An old truth.csv next to new, partial event files would look like a complete run.
	if err := os.Remove(truthPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Summary{}, fmt.Errorf("generate: %w", err)
	}

	r := &run{o: o, free: make(chan *chunk, 4*maxWorkers)}
	sum, err := r.run(ctx)
	if err != nil {
		r.cleanup()
		return Summary{}, err
	}
	return sum, nil
}

type run struct {
	o       Options
	free    chan *chunk // written chunks whose buffers can be reused
	mu      sync.Mutex
	temps   []string // temporary files to remove on failure
	renamed []string // completed files of this run, removed on failure
}

func (r *run) getChunk() *chunk {
	select {
	case c := <-r.free:
		return c
	default:
		return new(chunk)
	}
}

func (r *run) putChunk(c *chunk) {
	select {
	case r.free <- c:
	default:
	}
}

func (r *run) addTemp(name string) {
	r.mu.Lock()
	r.temps = append(r.temps, name)
	r.mu.Unlock()
}

// commit renames a finished temporary file to its final name.
func (r *run) commit(tmp, final string) error {
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	r.mu.Lock()
	r.renamed = append(r.renamed, final)
	r.mu.Unlock()
	return nil
}

func (r *run) cleanup() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.temps {
		os.Remove(f)
	}
	for _, f := range r.renamed {
		os.Remove(f)
	}
}

// maxWorkers bounds parallelism (and memory: each worker holds two chunk buffers of ~15 MB);
// beyond it, writing is the bottleneck.
const maxWorkers = 16

type job struct {
	index int
	out   chan *chunk
}

func (r *run) run(parent context.Context) (Summary, error) {
	o := &r.o
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	sum := Summary{Persons: o.Persons, Files: []string{}}
	nChunks := (o.Persons + chunkPersons - 1) / chunkPersons
	workers := max(1, min(runtime.GOMAXPROCS(0), maxWorkers, nChunks))
	endMs := o.End.UnixMilli()
	startMs := endMs - int64(o.Days)*86_400_000

	tf, err := os.CreateTemp(o.Out, ".truth-*.csv.tmp")
	if err != nil {
		return sum, fmt.Errorf("generate: %w", err)
	}
	r.addTemp(tf.Name())
	defer tf.Close()
	tw := bufio.NewWriterSize(tf, 1<<20)
	tw.WriteString(TruthHeader + "\n")

	// Stage 1: workers generate chunks; the feeder keeps a bounded number of chunks in flight and
	// hands their result channels to the collector in order.
	order := make(chan chan *chunk, workers)
	jobs := make(chan job)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for i := 0; i < nChunks; i++ {
			rc := make(chan *chunk, 1)
			select {
			case order <- rc:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, rc}:
			case <-ctx.Done():
				rc <- &chunk{err: context.Cause(ctx)}
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(uint64(o.Seed), startMs, endMs)
			for j := range jobs {
				if err := ctx.Err(); err != nil {
					j.out <- &chunk{err: context.Cause(ctx)}
					continue
				}
				first := j.index * chunkPersons
				c := r.getChunk()
				g.generateChunk(o, c, j.index, first, min(chunkPersons, o.Persons-first))
				j.out <- c
			}
		}()
	}

	// Stage 3: one goroutine writes event files in order (stage 2, gzip, runs in between).
	w := &writer{run: r, cancel: cancel}
	segs := make(chan *segment, 2*workers)
	writerDone := make(chan error, 1)
	go func() { writerDone <- w.loop(ctx, segs) }()

	err = r.collect(ctx, order, segs, tw, &sum, workers)
	close(segs)
	werr := <-writerDone
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	if err == nil {
		err = werr
	}
	if err == nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		err = parent.Err()
	}
	if err != nil {
		return sum, err
	}

	if err := tw.Flush(); err != nil {
		return sum, fmt.Errorf("generate: %w", err)
	}
	if err := tf.Close(); err != nil {
		return sum, fmt.Errorf("generate: %w", err)
	}
	sum.Files = append(sum.Files, w.files...)
	if err := removeStale(o.Out, sum.Files, filepath.Base(tf.Name())); err != nil {
		return sum, err
	}
	truthPath := filepath.Join(o.Out, TruthFileName)
	if err := r.commit(tf.Name(), truthPath); err != nil {
		return sum, fmt.Errorf("generate: %w", err)
	}
	sum.TruthFile = truthPath
	return sum, nil
}

// collect receives chunks in order, writes truth rows, and cuts the lines into per-file segments.
func (r *run) collect(ctx context.Context, order chan chan *chunk, segs chan<- *segment, tw *bufio.Writer, sum *Summary, workers int) error {
	o := &r.o
	file, inFile := 1, 0
	var tail []byte // last 32 KiB of the current gzip file: the next segment's dictionary
	sem := make(chan struct{}, workers)
	persons := 0
	for rc := range order {
		c := <-rc
		if c.err != nil {
			return c.err
		}
		if _, err := tw.Write(c.truth); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		sum.Events += c.events
		sum.Bad += c.bad
		sum.Duplicates += c.duplicates
		off := int32(0)
		for li := 0; li < len(c.lineEnds); {
			take := min(o.FileEvents-inFile, len(c.lineEnds)-li)
			end := c.lineEnds[li+take-1]
			s := &segment{file: file, data: c.out[off:end]}
			if li+take == len(c.lineEnds) {
				s.release = c // the writer recycles the chunk after its last segment
			}
			if o.Gzip {
				s.dict = tail
				tail = appendTail(tail, s.data)
				s.done = make(chan struct{})
				sem <- struct{}{}
				go func() {
					defer close(s.done)
					defer func() { <-sem }()
					s.compress()
				}()
			}
			select {
			case segs <- s:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			li += take
			off = end
			inFile += take
			if inFile == o.FileEvents {
				file++
				inFile = 0
				tail = nil
			}
		}
		if len(c.lineEnds) == 0 {
			r.putChunk(c)
		}
		persons += c.persons
		if o.Progress != nil {
			o.Progress(persons)
		}
	}
	return ctx.Err()
}

// appendTail returns the last 32 KiB of tail+data in a new slice (the old one may still be in use
// as another segment's dictionary).
func appendTail(tail, data []byte) []byte {
	const window = 32 << 10
	if len(data) >= window {
		return append([]byte(nil), data[len(data)-window:]...)
	}
	keep := min(len(tail), window-len(data))
	out := make([]byte, 0, keep+len(data))
	out = append(out, tail[len(tail)-keep:]...)
	return append(out, data...)
}

// removeStale deletes event files of an earlier run that this run did not produce, and temporary
// files left by killed runs, so the directory holds exactly one data set.
func removeStale(dir string, keep []string, ownTruth string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	kept := make(map[string]bool, len(keep))
	for _, f := range keep {
		kept[filepath.Base(f)] = true
	}
	for _, e := range ents {
		n := e.Name()
		stale := false
		switch {
		case e.IsDir():
		case isEventFileName(n):
			stale = !kept[n]
		case strings.HasPrefix(n, ".events-") && strings.HasSuffix(n, ".tmp"):
			stale = true
		case strings.HasPrefix(n, ".truth-") && strings.HasSuffix(n, ".tmp"):
			stale = n != ownTruth
		}
		if stale {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("generate: removing stale file: %w", err)
			}
		}
	}
	return nil
}

// isEventFileName reports whether n looks like events-NNNNN.ndjson or events-NNNNN.ndjson.gz.
func isEventFileName(n string) bool {
	rest, ok := strings.CutPrefix(n, "events-")
	if !ok {
		return false
	}
	rest = strings.TrimSuffix(rest, ".gz")
	digits, ok := strings.CutSuffix(rest, ".ndjson")
	if !ok || len(digits) < 5 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
