package compile

import (
	"fmt"
	"regexp"
	"strings"
)

// BreakingChange is a change between two compiles that can break the consumers of a model with
// an enforced contract: the model or one of its columns is gone, a column's type changed in a
// way readers may not accept, or the contract is no longer enforced.
type BreakingChange struct {
	ID     string `json:"id"`     // node ID, "model.customers"
	Path   string `json:"path"`   // the model's file
	Change string `json:"change"` // what changed and how to do it without breaking anyone
}

func (b BreakingChange) String() string {
	if b.Path == "" {
		return b.ID + ": " + b.Change
	}
	return fmt.Sprintf("%s (%s): %s", b.ID, b.Path, b.Change)
}

// BreakingChanges compares the contracted models of old (an earlier manifest, as ReadManifest
// returns it) with new (BuildManifest of the current compile), in node ID order and, within a
// model, in the old column order. Models without an enforced contract in old may change freely;
// adding models, versions or columns is never breaking, and neither is widening a column's type
// (integer to bigint, float to double) or renaming a type to an alias (text to varchar).
func BreakingChanges(old, new *Manifest) []BreakingChange {
	if old == nil || new == nil {
		return nil
	}
	var out []BreakingChange
	const newVersion = " (create a new version of the model for this change)"
	for _, id := range sortedKeys(old.Nodes) {
		o := old.Nodes[id]
		if o.Kind != KindModel || !o.ContractEnforced {
			continue
		}
		n := new.Nodes[id]
		if n == nil {
			out = append(out, BreakingChange{ID: id, Path: o.Path,
				Change: "contracted model was removed (or disabled); keep it, or deprecate it as an old version first"})
			continue
		}
		path := n.Path
		if path == "" {
			path = o.Path
		}
		if !n.ContractEnforced {
			out = append(out, BreakingChange{ID: id, Path: path,
				Change: "contract was removed; downstream users rely on it (add a new version instead)"})
			continue
		}
		cols := make(map[string]ManifestColumn, len(n.Columns))
		for _, c := range n.Columns {
			cols[strings.ToLower(c.Name)] = c
		}
		for _, oc := range o.Columns {
			nc, ok := cols[strings.ToLower(oc.Name)]
			switch {
			case !ok:
				out = append(out, BreakingChange{ID: id, Path: path,
					Change: "column " + oc.Name + " was removed or renamed" + newVersion})
			case oc.DataType != "" && !typeCompatible(oc.DataType, nc.DataType):
				to := nc.DataType
				if to == "" {
					to = "no declared type"
				}
				out = append(out, BreakingChange{ID: id, Path: path,
					Change: fmt.Sprintf("column %s changed type from %s to %s%s", oc.Name, oc.DataType, to, newVersion)})
			}
		}
	}
	return out
}

var typeArgsRe = regexp.MustCompile(`\s*\(.*\)$`)

// typeAliases maps the spellings of a type (DuckDB, BigQuery, PostgreSQL) to one name.
var typeAliases = map[string]string{
	"tinyint": "tinyint", "int1": "tinyint",
	"smallint": "smallint", "int2": "smallint", "int16": "smallint", "short": "smallint",
	"integer": "integer", "int": "integer", "int4": "integer", "int32": "integer", "signed": "integer",
	"bigint": "bigint", "int8": "bigint", "int64": "bigint", "long": "bigint",
	"hugeint": "hugeint", "int128": "hugeint",
	"real": "float", "float4": "float", "float": "float",
	"double": "double", "float8": "double", "float64": "double", "double precision": "double",
	"varchar": "varchar", "text": "varchar", "string": "varchar", "character varying": "varchar", "bpchar": "varchar", "char": "varchar",
	"boolean": "boolean", "bool": "boolean", "logical": "boolean",
	"timestamp": "timestamp", "datetime": "timestamp", "timestamp without time zone": "timestamp",
	"timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
	"decimal": "decimal", "numeric": "decimal", "bignumeric": "bignumeric",
	"bytes": "blob", "blob": "blob", "bytea": "blob",
}

// widening lists the types each type can grow into without breaking readers.
var widening = map[string][]string{
	"tinyint":  {"smallint", "integer", "bigint", "hugeint"},
	"smallint": {"integer", "bigint", "hugeint"},
	"integer":  {"bigint", "hugeint"},
	"bigint":   {"hugeint"},
	"float":    {"double"},
}

// canonicalType is a declared type in lower case with its aliases resolved; the length of
// varchar(n) and the like is dropped, decimal keeps its precision and scale.
func canonicalType(t string) string {
	t = strings.Join(strings.Fields(strings.ToLower(t)), " ")
	base, args := t, ""
	if loc := typeArgsRe.FindStringIndex(t); loc != nil {
		base, args = t[:loc[0]], strings.ReplaceAll(t[loc[0]:], " ", "")
	}
	if c, ok := typeAliases[base]; ok {
		base = c
	}
	if base == "decimal" || base == "bignumeric" {
		return base + args
	}
	if args != "" && base != "varchar" && base != "blob" {
		return base + args // list/struct/array types and others: compare as written
	}
	return base
}

func typeCompatible(old, new string) bool {
	o, n := canonicalType(old), canonicalType(new)
	if o == n {
		return true
	}
	for _, w := range widening[o] {
		if w == n {
			return true
		}
	}
	return false
}
