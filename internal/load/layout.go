package load

import (
	"fmt"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// column is one column of a raw table and the SQL that fills it from a classified row.
type column struct {
	name string
	typ  string // portable type
	expr string // over the classified table
	// fromOriginal: the column is the row's original text, which the classified table already
	// holds as original_text, so it is not computed (or stored) twice.
	fromOriginal bool
	// virtualPath, when set, makes the column the JSON value at this path of the payload,
	// computed at read time on engines that can (Dialect.VirtualColumn) instead of stored.
	virtualPath string
	// document: large text stored with the engine's document column type (DDL only).
	document bool
}

// ddlType is the type a column is created with.
func ddlType(d warehouse.Dialect, c column) string {
	if c.document {
		return d.DocumentColumn()
	}
	return d.Type(c.typ)
}

// layout is what a source format contributes to the load pipeline: how to stage its files, the
// columns of the raw table, and the SQL that classifies staged rows.
type layout struct {
	stage   warehouse.Format
	columns []column
	// classified renders the SELECT that turns the staged table into rows with their extracted
	// values (columns named after layout columns), plus line, original text (original_text),
	// original bytes (original_bytes), failed, reason and detail.
	classified func(staged string, header []string) (string, error)
	// dedupeKey is the column that identifies a message for deduplication ("" = none).
	dedupeKey string
}

// metaColumns end every raw table: where each row came from.
func metaColumns(d warehouse.Dialect, file, loadID string) []column {
	return []column{
		{name: "source_file", typ: "string", expr: d.QuoteString(file)},
		{name: "source_line", typ: "integer", expr: "line"},
		{name: "load_id", typ: "string", expr: d.QuoteString(loadID)},
		{name: "loaded_at", typ: "timestamp", expr: d.Now()},
	}
}

// columnName turns a contract field name or dotted path into a column name: context.device.id
// becomes context_device_id.
func columnName(field string) string {
	var b strings.Builder
	for i, r := range field {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && i > 0, r == '_':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func layoutFor(d warehouse.Dialect, src *config.Source) (*layout, error) {
	c := src.Contract
	if c == nil {
		c = &config.Contract{}
	}
	switch src.Format {
	case "segment":
		return segmentLayout(d, c), nil
	case "ndjson":
		return ndjsonLayout(d, c), nil
	case "csv":
		return csvLayout(d, c), nil
	case "parquet":
		return parquetLayout(d, c), nil
	}
	return nil, fmt.Errorf("source %q: unknown format %q (want segment, ndjson, csv or parquet)", src.Name, src.Format)
}

// RawColumns describes the raw table `cdp load` creates for src (in order, with engine types),
// so models reading it can be checked before anything is loaded.
func RawColumns(d warehouse.Dialect, src *config.Source) ([]warehouse.Column, error) {
	lay, err := layoutFor(d, src)
	if err != nil {
		return nil, err
	}
	var cols []warehouse.Column
	for _, c := range append(append([]column{}, lay.columns...), metaColumns(d, "", "")...) {
		cols = append(cols, warehouse.Column{Name: c.name, Type: d.Type(c.typ), Nullable: true})
	}
	return cols, nil
}
