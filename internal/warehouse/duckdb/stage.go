package duckdb

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"unicode/utf8"
	"unsafe"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

func (w *Warehouse) Load(ctx context.Context, req warehouse.LoadRequest) (warehouse.LoadResult, error) {
	res := warehouse.LoadResult{Table: stageRef(req.Name)}
	if err := w.DropStaged(ctx, req.Name); err != nil {
		return res, err
	}
	in, err := openInput(req.Path, req.Progress)
	if err != nil {
		return res, err
	}
	defer in.Close()
	if req.Format == warehouse.FormatLines && in.gz == nil {
		if info, err := in.file.Stat(); err == nil && info.Size() >= 2*minSplit {
			if err := w.stageLinesParallel(ctx, req.Path, info.Size(), res.Table, req.Progress, &res); err != nil {
				_ = w.DropStaged(context.Background(), req.Name)
				return res, fmt.Errorf("stage %s: %w", req.Path, err)
			}
			return res, nil
		}
	}
	switch req.Format {
	case warehouse.FormatLines:
		err = w.stageLines(ctx, in, res.Table, &res)
	case warehouse.FormatCSV:
		err = w.stageCSV(ctx, in, res.Table, &res)
	case warehouse.FormatParquet:
		err = w.stageParquet(ctx, req.Path, in, res.Table, &res)
	default:
		err = fmt.Errorf("unknown staging format %q", req.Format)
	}
	if err != nil {
		_ = w.DropStaged(context.Background(), req.Name)
		return res, fmt.Errorf("stage %s: %w", req.Path, err)
	}
	res.Bytes = in.counter.n
	res.Checksum = hex.EncodeToString(in.sum.Sum(nil))
	return res, nil
}

// input reads a file once, hashing and counting the bytes on disk, decompressing gzip when the
// content starts with gzip's magic number (extensions lie; content does not).
type input struct {
	io.Reader
	file    *os.File
	gz      *gzip.Reader
	sum     hash.Hash
	counter *countingReader
}

func openInput(path string, progress func(int64)) (*input, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	in := &input{file: f, sum: sha256.New()}
	in.counter = &countingReader{r: io.TeeReader(f, in.sum), progress: progress}
	br := bufio.NewReaderSize(in.counter, 1<<20)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: looks gzip-compressed but is not readable: %w", path, err)
		}
		in.gz = gz
		in.Reader = gz
	} else {
		in.Reader = br
	}
	return in, nil
}

// drain reads what the stager did not (Parquet is read by DuckDB itself) so the checksum and
// byte count cover the whole file.
func (in *input) drain() error {
	_, err := io.Copy(io.Discard, in.counter)
	return err
}

func (in *input) Close() error {
	if in.gz != nil {
		in.gz.Close()
	}
	return in.file.Close()
}

type countingReader struct {
	r        io.Reader
	n        int64
	last     int64
	progress func(int64)
	delta    bool // report bytes read since the last report instead of the running total
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && (c.n-c.last >= 4<<20 || err == io.EOF) {
		if c.delta {
			c.progress(c.n - c.last)
		} else {
			c.progress(c.n)
		}
		c.last = c.n
	}
	return n, err
}

// withAppender runs fn with an Appender on a dedicated connection.
func (w *Warehouse) withAppender(ctx context.Context, table string, fn func(*duckdb.Appender) error) error {
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		name := strings.TrimPrefix(table, stageCatalog+".main.")
		app, err := duckdb.NewAppender(dc.(driver.Conn), stageCatalog, "main", strings.Trim(name, `"`))
		if err != nil {
			return err
		}
		if err := fn(app); err != nil {
			app.Close()
			return err
		}
		return app.Close()
	})
}

// bytesAsString views b as a string without copying. Safe here because the Appender copies the
// string into its own vector before AppendRow returns and b is not modified until then.
func bytesAsString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (w *Warehouse) stageLines(ctx context.Context, in io.Reader, table string, res *warehouse.LoadResult) error {
	if err := w.Exec(ctx, "CREATE TABLE "+table+" (line BIGINT, text VARCHAR, raw BLOB)"); err != nil {
		return err
	}
	return w.withAppender(ctx, table, func(app *duckdb.Appender) error {
		n, err := appendLines(ctx, app, in, 1)
		res.Rows = n
		return err
	})
}

// stageCSV splits the input into records itself (a record ends at a newline outside quotes) so
// every record keeps its line number and exact text, then parses each record with encoding/csv.
// A malformed record is staged with its error instead of aborting the file.
func (w *Warehouse) stageCSV(ctx context.Context, in io.Reader, table string, res *warehouse.LoadResult) error {
	if err := w.Exec(ctx, "CREATE TABLE "+table+" (line BIGINT, text VARCHAR, fields VARCHAR[], error VARCHAR)"); err != nil {
		return err
	}
	return w.withAppender(ctx, table, func(app *duckdb.Appender) error {
		r := bufio.NewReaderSize(in, 1<<20)
		lineNo := int64(0)
		var rows int64
		for {
			start := lineNo + 1
			record, lines, err := readRecord(r)
			if len(record) == 0 && err == io.EOF {
				break
			}
			if err != nil && err != io.EOF {
				return err
			}
			lineNo += lines
			text := strings.TrimRight(string(record), "\r\n")
			if strings.TrimSpace(text) == "" {
				continue
			}
			var fields []string
			var perr error
			if !utf8.ValidString(text) {
				perr = errors.New("invalid UTF-8")
				text = strings.ToValidUTF8(text, "\uFFFD")
			} else {
				cr := csv.NewReader(strings.NewReader(text))
				cr.FieldsPerRecord = -1
				fields, perr = cr.Read()
			}
			if res.Header == nil {
				// Spreadsheet exports often start with a UTF-8 byte order mark; it is not part of
				// the first column's name.
				if len(fields) > 0 {
					fields[0] = strings.TrimPrefix(fields[0], "\uFEFF")
				}
				if perr != nil {
					return fmt.Errorf("line %d: header: %v", start, perr)
				}
				res.Header = fields
				continue
			}
			var appendErr error
			if perr != nil {
				appendErr = app.AppendRow(start, text, nil, csvErrText(perr))
			} else {
				appendErr = app.AppendRow(start, text, fields, nil)
			}
			if appendErr != nil {
				return fmt.Errorf("line %d: %w", start, appendErr)
			}
			rows++
			if rows%65536 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if err == io.EOF {
				break
			}
		}
		if res.Header == nil {
			return errors.New("empty file: a CSV source needs a header line")
		}
		res.Rows = rows
		return nil
	})
}

func csvErrText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "malformed CSV: " + pe.Err.Error()
	}
	return "malformed CSV: " + err.Error()
}

// readRecord reads physical lines until the record ends outside a quoted field, returning the
// record's bytes and how many lines it spans.
func readRecord(r *bufio.Reader) ([]byte, int64, error) {
	var rec []byte
	var lines int64
	inQuotes, fieldStart := false, true
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			lines++
			rec = append(rec, line...)
			inQuotes, fieldStart = scanQuotes(line, inQuotes, fieldStart)
		}
		if err != nil {
			return rec, lines, err
		}
		if !inQuotes {
			return rec, lines, nil
		}
	}
}

// scanQuotes follows RFC 4180 quoting over one line: a quote opens a quoted field only at the
// start of a field; inside one, "" is an escaped quote and a lone quote closes it. A bare quote
// inside an unquoted field changes nothing (encoding/csv reports it), so one stray quote cannot
// swallow the records after it.
func scanQuotes(line []byte, inQuotes, fieldStart bool) (bool, bool) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQuotes:
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
					continue
				}
				inQuotes = false
			}
		case c == '"' && fieldStart:
			inQuotes, fieldStart = true, false
		case c == ',' || c == '\n':
			fieldStart = true
		default:
			fieldStart = false
		}
	}
	return inQuotes, fieldStart
}

func (w *Warehouse) stageParquet(ctx context.Context, path string, in *input, table string, res *warehouse.LoadResult) error {
	if in.gz != nil {
		return errors.New("gzip-compressed Parquet is not supported: Parquet compresses its own pages; load the .parquet file as it is")
	}
	q := "CREATE TABLE " + table + " AS SELECT file_row_number + 1 AS line, * EXCLUDE (file_row_number) FROM read_parquet(" +
		Dialect{}.QuoteString(path) + ", file_row_number = true)"
	if err := w.Exec(ctx, q); err != nil {
		return err
	}
	if err := in.drain(); err != nil {
		return err
	}
	rows, err := w.db.QueryContext(ctx, "SELECT * FROM "+table+" LIMIT 0")
	if err != nil {
		return err
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		return err
	}
	res.Header = cols[1:] // after line
	return w.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&res.Rows)
}
