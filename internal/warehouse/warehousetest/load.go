package warehousetest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

//go:embed testdata/people.parquet
var peopleParquet []byte

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// progress records the calls made to LoadRequest.Progress.
type progress struct {
	mu    sync.Mutex
	calls []int64
}

func (p *progress) fn(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, n)
}

// check verifies Progress was called, never went backwards and never passed the file's size.
func (p *progress) check(t *testing.T, size int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) == 0 {
		t.Errorf("Progress was never called")
		return
	}
	for i, n := range p.calls {
		if n < 0 || n > size || (i > 0 && n < p.calls[i-1]) {
			t.Errorf("Progress calls %v: not non-decreasing within [0, %d]", p.calls, size)
			return
		}
	}
}

// load stages data (written to a file called name) and checks the result's byte count and
// checksum against the file.
func load(t *testing.T, w warehouse.Warehouse, name string, data []byte, format warehouse.Format, table string) warehouse.LoadResult {
	t.Helper()
	path := writeFile(t, name, data)
	var p progress
	res, err := w.Load(ctxFor(t), warehouse.LoadRequest{Path: path, Format: format, Name: table, Progress: p.fn})
	if err != nil {
		t.Fatalf("Load(%s, %s): %v", name, format, err)
	}
	sum := sha256.Sum256(data)
	if res.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("Checksum = %s, want sha256 of the file %x", res.Checksum, sum)
	}
	if res.Bytes != int64(len(data)) {
		t.Errorf("Bytes = %d, want the file's size %d", res.Bytes, len(data))
	}
	if res.Table == "" {
		t.Fatalf("Table is empty")
	}
	p.check(t, int64(len(data)))
	return res
}

// stagedLine is one row of a FormatLines staging table.
type stagedLine struct {
	Line int64
	Text string // nullMark for NULL
	Raw  []byte
}

func readLines(t *testing.T, w warehouse.Warehouse, table string) []stagedLine {
	t.Helper()
	rows, err := w.Query(ctxFor(t), "SELECT line, text, raw FROM "+table+" ORDER BY line")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []stagedLine
	for rows.Next() {
		var l stagedLine
		var text sql.NullString
		if err := rows.Scan(&l.Line, &text, &l.Raw); err != nil {
			t.Fatal(err)
		}
		l.Text = nullText(text)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// linesFixture has every awkward case: CRLF, empty lines (LF and CRLF), a line that is not
// UTF-8, a line longer than 1 MiB, non-ASCII text and a last line without a newline.
func linesFixture() ([]byte, []stagedLine) {
	long := strings.Repeat("0123456789abcdef", 1<<16) + "tail" // 1 MiB + 4 bytes
	data := "alpha\r\n" + "\n" + "\r\n" + "\xff\xfeok\xc3\n" + long + "\n" + "héllo ✓ 日本\n" + "last"
	want := []stagedLine{
		{1, "alpha", nil},
		{2, "", nil},
		{3, "", nil},
		{4, nullMark, []byte("\xff\xfeok\xc3")},
		{5, long, nil},
		{6, "héllo ✓ 日本", nil},
		{7, "last", nil},
	}
	return []byte(data), want
}

func diffLines(want, got []stagedLine) string {
	// Keep the 1 MiB line out of failure messages.
	short := func(ls []stagedLine) []stagedLine {
		out := make([]stagedLine, len(ls))
		for i, l := range ls {
			if len(l.Text) > 100 {
				sum := sha256.Sum256([]byte(l.Text))
				l.Text = fmt.Sprintf("<%d bytes, sha256 %x>", len(l.Text), sum[:8])
			}
			out[i] = l
		}
		return out
	}
	return cmp.Diff(short(want), short(got))
}

func (s *suite) testLoadLines(t *testing.T) {
	w := s.open(t)
	data, want := linesFixture()
	res := load(t, w, "events.ndjson", data, warehouse.FormatLines, "stage_lines")
	if res.Rows != int64(len(want)) {
		t.Errorf("Rows = %d, want %d", res.Rows, len(want))
	}
	if diff := diffLines(want, readLines(t, w, res.Table)); diff != "" {
		t.Errorf("staged lines (-want +got):\n%s", diff)
	}
}

func (s *suite) testLoadLinesGzip(t *testing.T) {
	w := s.open(t)
	data, want := linesFixture()
	// No .gz extension: gzip is detected from the content.
	res := load(t, w, "events.ndjson", gzipped(t, data), warehouse.FormatLines, "stage_gz")
	if res.Rows != int64(len(want)) {
		t.Errorf("Rows = %d, want %d", res.Rows, len(want))
	}
	if diff := diffLines(want, readLines(t, w, res.Table)); diff != "" {
		t.Errorf("staged lines from gzip (-want +got):\n%s", diff)
	}
}

func (s *suite) testLoadLinesEdges(t *testing.T) {
	w := s.open(t)
	for _, tc := range []struct {
		name string
		data string
		want []stagedLine
	}{
		{"trailing newline adds no row", "a\nb\n", []stagedLine{{1, "a", nil}, {2, "b", nil}}},
		{"empty file", "", nil},
		{"only newlines", "\n\n", []stagedLine{{1, "", nil}, {2, "", nil}}},
		{"bare CR is not a line break", "a\rb\n", []stagedLine{{1, "a\rb", nil}}},
		{"one byte not UTF-8", "\x80", []stagedLine{{1, nullMark, []byte{0x80}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := load(t, w, "f.txt", []byte(tc.data), warehouse.FormatLines, "stage_edge")
			if res.Rows != int64(len(tc.want)) {
				t.Errorf("Rows = %d, want %d", res.Rows, len(tc.want))
			}
			if diff := diffLines(tc.want, readLines(t, w, res.Table)); diff != "" {
				t.Errorf("staged lines (-want +got):\n%s", diff)
			}
		})
	}
}

// stagedRecord is one row of a FormatCSV staging table.
type stagedRecord struct {
	Line   int64
	Text   string
	Fields []string // nil when NULL
	Error  string   // nullMark when NULL, "<set>" when not
}

func readRecords(t *testing.T, w warehouse.Warehouse, table string) []stagedRecord {
	t.Helper()
	var out []stagedRecord
	for _, v := range queryValues(t, w, "SELECT line, text, fields, error FROM "+table+" ORDER BY line") {
		var r stagedRecord
		var ok bool
		if r.Line, ok = v[0].(int64); !ok {
			t.Fatalf("line is %T, want int64", v[0])
		}
		if r.Text, ok = v[1].(string); !ok {
			t.Fatalf("text is %T, want string", v[1])
		}
		fields, err := stringList(v[2])
		if err != nil {
			t.Fatalf("line %d: fields: %v", r.Line, err)
		}
		r.Fields = fields
		switch e := v[3].(type) {
		case nil:
			r.Error = nullMark
		case string:
			if e == "" {
				t.Errorf("line %d: error is empty text; want NULL or a reason", r.Line)
			}
			r.Error = "<set>"
		default:
			t.Fatalf("error is %T, want string", v[3])
		}
		out = append(out, r)
	}
	return out
}

func (s *suite) testLoadCSV(t *testing.T) {
	w := s.open(t)
	data := "id,name,note\n" + // 1
		"1,ada,plain\n" + // 2
		"2,\"lovelace, ada\",\"multi\nline\"\n" + // 3-4
		"3,bad\"quote,x\n" + // 5: malformed, and must not swallow line 6
		"4,\"it's \"\"quoted\"\"\",z\n" + // 6
		"5,,\n" + // 7: empty fields
		"6,ünï,✓\n" + // 8
		"7,last,no newline" // 9
	res := load(t, w, "people.csv", []byte(data), warehouse.FormatCSV, "stage_csv")
	if diff := cmp.Diff([]string{"id", "name", "note"}, res.Header); diff != "" {
		t.Errorf("Header (-want +got):\n%s", diff)
	}
	want := []stagedRecord{
		{2, "1,ada,plain", []string{"1", "ada", "plain"}, nullMark},
		{3, "2,\"lovelace, ada\",\"multi\nline\"", []string{"2", "lovelace, ada", "multi\nline"}, nullMark},
		{5, "3,bad\"quote,x", nil, "<set>"},
		{6, "4,\"it's \"\"quoted\"\"\",z", []string{"4", `it's "quoted"`, "z"}, nullMark},
		{7, "5,,", []string{"5", "", ""}, nullMark},
		{8, "6,ünï,✓", []string{"6", "ünï", "✓"}, nullMark},
		{9, "7,last,no newline", []string{"7", "last", "no newline"}, nullMark},
	}
	if res.Rows != int64(len(want)) {
		t.Errorf("Rows = %d, want %d", res.Rows, len(want))
	}
	if diff := cmp.Diff(want, readRecords(t, w, res.Table)); diff != "" {
		t.Errorf("staged records (-want +got):\n%s", diff)
	}
}

func (s *suite) testLoadCSVEdges(t *testing.T) {
	w := s.open(t)
	for _, tc := range []struct {
		name   string
		data   []byte
		header []string
		want   []stagedRecord
	}{
		{
			name:   "CRLF",
			data:   []byte("a,b\r\n1,2\r\n3,\"x\"\r\n"),
			header: []string{"a", "b"},
			want: []stagedRecord{
				{2, "1,2", []string{"1", "2"}, nullMark},
				{3, "3,\"x\"", []string{"3", "x"}, nullMark},
			},
		},
		{
			name:   "byte order mark",
			data:   []byte("\ufeffa,b\n1,2\n"),
			header: []string{"a", "b"},
			want:   []stagedRecord{{2, "1,2", []string{"1", "2"}, nullMark}},
		},
		{
			name:   "header only",
			data:   []byte("a,b\n"),
			header: []string{"a", "b"},
		},
		{
			name:   "gzip",
			data:   gzipped(t, []byte("a,b\n1,\"two\nlines\"\n3,4\n")),
			header: []string{"a", "b"},
			want: []stagedRecord{
				{2, "1,\"two\nlines\"", []string{"1", "two\nlines"}, nullMark},
				{4, "3,4", []string{"3", "4"}, nullMark},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := load(t, w, "f.csv", tc.data, warehouse.FormatCSV, "stage_csv_edge")
			if diff := cmp.Diff(tc.header, res.Header); diff != "" {
				t.Errorf("Header (-want +got):\n%s", diff)
			}
			if res.Rows != int64(len(tc.want)) {
				t.Errorf("Rows = %d, want %d", res.Rows, len(tc.want))
			}
			if diff := cmp.Diff(tc.want, readRecords(t, w, res.Table)); diff != "" {
				t.Errorf("staged records (-want +got):\n%s", diff)
			}
		})
	}
}

func (s *suite) testLoadParquet(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	res := load(t, w, "people.parquet", peopleParquet, warehouse.FormatParquet, "stage_parquet")
	if res.Rows != 3 {
		t.Errorf("Rows = %d, want 3", res.Rows)
	}
	rows, err := w.Query(ctxFor(t), "SELECT * FROM "+res.Table)
	if err != nil {
		t.Fatal(err)
	}
	cols := rows.Columns()
	rows.Close()
	if diff := cmp.Diff([]string{"line", "id", "name", "score", "active"}, columnNames(cols)); diff != "" {
		t.Errorf("staged columns (-want +got):\n%s", diff)
	}
	wantTypes := []string{d.Type("integer"), d.Type("integer"), d.Type("string"), d.Type("number"), d.Type("boolean")}
	if diff := cmp.Diff(wantTypes, columnTypes(cols)); diff != "" {
		t.Errorf("staged column types (-want +got):\n%s", diff)
	}
	got := queryValues(t, w, "SELECT line, id, name, score, active FROM "+res.Table+" ORDER BY line")
	want := [][]any{
		{int64(1), int64(1), "ada", 1.5, true},
		{int64(2), int64(2), nil, nil, nil},
		{int64(3), int64(3), "it's", -2.25, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("staged rows (-want +got):\n%s", diff)
	}
}

func (s *suite) testLoadErrors(t *testing.T) {
	w := s.open(t)
	ctx := ctxFor(t)
	missing := filepath.Join(t.TempDir(), "missing.ndjson")
	_, err := w.Load(ctx, warehouse.LoadRequest{Path: missing, Format: warehouse.FormatLines, Name: "stage_missing"})
	wantErrContaining(t, "Load of a missing file", err, missing)

	path := writeFile(t, "f.txt", []byte("a\n"))
	_, err = w.Load(ctx, warehouse.LoadRequest{Path: path, Format: "xml", Name: "stage_xml"})
	wantErrContaining(t, "Load with an unknown format", err, "xml")

	// A failed load leaves nothing staged, and the warehouse works.
	res := load(t, w, "g.txt", []byte("ok\n"), warehouse.FormatLines, "stage_after")
	if diff := diffLines([]stagedLine{{1, "ok", nil}}, readLines(t, w, res.Table)); diff != "" {
		t.Errorf("load after failures (-want +got):\n%s", diff)
	}
}

func (s *suite) testDropStaged(t *testing.T) {
	w := s.open(t)
	ctx := ctxFor(t)
	res := load(t, w, "a.txt", []byte("one\ntwo\n"), warehouse.FormatLines, "stage_drop")
	if n := queryInt(t, w, "SELECT count(*) FROM "+res.Table); n != 2 {
		t.Fatalf("staged count = %d, want 2", n)
	}
	// Loading under the same name replaces the staged table.
	res = load(t, w, "b.txt", []byte("three\n"), warehouse.FormatLines, "stage_drop")
	if diff := diffLines([]stagedLine{{1, "three", nil}}, readLines(t, w, res.Table)); diff != "" {
		t.Errorf("after reloading the same name (-want +got):\n%s", diff)
	}
	if err := w.DropStaged(ctx, "stage_drop"); err != nil {
		t.Fatalf("DropStaged: %v", err)
	}
	if _, err := w.Query(ctx, "SELECT count(*) FROM "+res.Table); err == nil {
		t.Errorf("staged table still queryable after DropStaged")
	}
	if err := w.DropStaged(ctx, "stage_drop"); err != nil {
		t.Errorf("second DropStaged: %v", err)
	}
	if err := w.DropStaged(ctx, "stage_never_made"); err != nil {
		t.Errorf("DropStaged of a table never staged: %v", err)
	}
}
