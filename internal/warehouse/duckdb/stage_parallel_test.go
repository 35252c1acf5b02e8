package duckdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// TestParallelStagingMatchesSequential stages the same file through the parallel path (forced
// by a tiny split size) and checks every line keeps its number, text and raw bytes.
func TestParallelStagingMatchesSequential(t *testing.T) {
	old := minSplit
	minSplit = 1 << 10
	defer func() { minSplit = old }()

	var b strings.Builder
	for i := 1; i <= 5000; i++ {
		switch {
		case i%997 == 0:
			b.WriteString("bad \xff\xfe line\n")
		case i%101 == 0:
			b.WriteString("\r\n")
		default:
			fmt.Fprintf(&b, `{"n":%d,"pad":"%s"}`+"\n", i, strings.Repeat("x", i%50))
		}
	}
	b.WriteString(`{"n":"last line without newline"}`)
	data := []byte(b.String())
	path := filepath.Join(t.TempDir(), "big.ndjson")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := OpenDuckDB(ctx, warehouse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var progressed int64
	res, err := w.Load(ctx, warehouse.LoadRequest{Path: path, Format: warehouse.FormatLines, Name: "p", Progress: func(n int64) { progressed = n }})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if res.Rows != 5001 || res.Bytes != int64(len(data)) || res.Checksum != hex.EncodeToString(sum[:]) || progressed != int64(len(data)) {
		t.Fatalf("rows=%d bytes=%d checksum=%s progress=%d; want 5001 %d %x %d", res.Rows, res.Bytes, res.Checksum, progressed, len(data), sum, len(data))
	}
	lines := strings.Split(string(data), "\n")
	rows, err := w.Query(ctx, "SELECT line, text, raw FROM "+res.Table+" ORDER BY line")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := int64(1)
	for rows.Next() {
		var line int64
		var text *string
		var raw []byte
		if err := rows.Scan(&line, &text, &raw); err != nil {
			t.Fatal(err)
		}
		if line != want {
			t.Fatalf("line %d follows %d", line, want-1)
		}
		orig := strings.TrimSuffix(lines[line-1], "\r")
		if text != nil && *text != orig || text == nil && string(raw) != orig {
			t.Fatalf("line %d: got text=%v raw=%q, want %q", line, text, raw, orig)
		}
		want++
	}
	if want != 5002 {
		t.Fatalf("saw %d lines, want 5001", want-1)
	}
}

// A process killed while DuckDB creates a new file must not leave a file DuckDB refuses to open:
// an empty file, or a half-made one under the temporary name, is replaced by a valid database.
func TestCreateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	for name, setup := range map[string]func(path string){
		"empty file":     func(path string) { os.WriteFile(path, nil, 0o644) },
		"leftover tmp":   func(path string) { os.WriteFile(path+".creating", []byte("half a header"), 0o644) },
		"nothing at all": func(string) {},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".duckdb")
		setup(path)
		w, err := OpenDuckDB(context.Background(), warehouse.Config{Path: path})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := w.Exec(context.Background(), "CREATE TABLE t AS SELECT 1 AS x"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w.Close()
		if _, err := os.Stat(path + ".creating"); !os.IsNotExist(err) {
			t.Errorf("%s: temporary file left behind", name)
		}
	}
}
