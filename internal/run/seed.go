package run

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// seedFile is a seed's CSV file as found on disk.
type seedFile struct {
	path     string // as opened: absolute, or relative to the working directory
	checksum string // hex SHA-256 of the file
	// fingerprint covers the compiled node's fingerprint, the file's bytes and the options
	// that shape the table, so an unchanged seed is skipped.
	fingerprint string
}

// readSeed checksums a seed's file.
func (e *execution) readSeed(n *compile.Node) (*seedFile, error) {
	if n.Seed == nil || n.Seed.Path == "" {
		return nil, errors.New("seed has no file")
	}
	path := n.Seed.Path
	if !filepath.IsAbs(path) && e.r.Dir != "" {
		path = filepath.Join(e.r.Dir, filepath.FromSlash(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read seed %s: %w", path, err)
	}
	sf := &seedFile{path: path, checksum: hex.EncodeToString(h.Sum(nil))}
	fp := sha256.New()
	fmt.Fprintf(fp, "seed\x00%s\x00%s\x00%s\x00", n.Fingerprint, sf.checksum, seedDelimiter(n))
	types := seedColumnTypes(n)
	for _, k := range slices.Sorted(maps.Keys(types)) {
		fmt.Fprintf(fp, "%s=%s\x00", k, types[k])
	}
	sf.fingerprint = hex.EncodeToString(fp.Sum(nil))
	return sf, nil
}

// seedSelect is the SELECT that reads the seed's file, with DuckDB's read_csv: a header row,
// types detected from the data except where column_types says otherwise.
func (e *execution) seedSelect(n *compile.Node, sf *seedFile) (string, error) {
	return seedSelectSQL(e.d, n, sf.path)
}

// seedSelectSQL is the SELECT that reads a seed's CSV file at path.
func seedSelectSQL(d warehouse.Dialect, n *compile.Node, path string) (string, error) {
	if d.Name() != "duckdb" {
		return "", fmt.Errorf("seeds are not supported on %s yet", d.Name())
	}
	q := d.QuoteString
	var b strings.Builder
	b.WriteString("SELECT * FROM read_csv(" + q(path) + ", header = true")
	if d := seedDelimiter(n); d != "" {
		b.WriteString(", delim = " + q(d))
	}
	if types := seedColumnTypes(n); len(types) > 0 {
		var fields []string
		for _, k := range slices.Sorted(maps.Keys(types)) {
			fields = append(fields, q(k)+": "+q(types[k]))
		}
		b.WriteString(", types = {" + strings.Join(fields, ", ") + "}")
	}
	b.WriteString(")")
	return b.String(), nil
}

func seedColumnTypes(n *compile.Node) map[string]string {
	if n.Seed != nil && len(n.Seed.ColumnTypes) > 0 {
		return n.Seed.ColumnTypes
	}
	out := map[string]string{}
	if m, ok := n.Config.Extra["column_types"].(map[string]any); ok {
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

func seedDelimiter(n *compile.Node) string {
	for _, extra := range []map[string]any{n.Config.Extra, seedExtra(n)} {
		if d, ok := extra["delimiter"].(string); ok {
			return d
		}
	}
	return ""
}

func seedExtra(n *compile.Node) map[string]any {
	if n.Seed == nil {
		return nil
	}
	return n.Seed.Config.Extra
}
