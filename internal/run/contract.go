package run

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cdp-dev/cdp/internal/compile"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// checkContract compares a built relation's columns with the model's declared columns when its
// contract is enforced: the same names (case-insensitive, any order) and compatible types
// (sameType). The error lists every difference.
func checkContract(n *compile.Node, got []warehouse.Column) error {
	if n.Model == nil || len(n.Model.Columns) == 0 {
		return errors.New("contract is enforced but the model declares no columns: list them with a data_type under columns: in its .yml file")
	}
	var problems []string
	declared := map[string]bool{}
	for _, c := range n.Model.Columns {
		declared[strings.ToLower(c.Name)] = true
		if strings.TrimSpace(c.DataType) == "" {
			problems = append(problems, fmt.Sprintf("column %s has no data_type (at %s)", c.Name, c.Pos))
			continue
		}
		var found *warehouse.Column
		for i := range got {
			if strings.EqualFold(got[i].Name, c.Name) {
				found = &got[i]
				break
			}
		}
		switch {
		case found == nil:
			problems = append(problems, fmt.Sprintf("missing column %s (%s)", c.Name, c.DataType))
		case !sameType(found.Type, c.DataType):
			problems = append(problems, fmt.Sprintf("column %s is %s but the contract says %s", c.Name, found.Type, c.DataType))
		}
	}
	for _, c := range got {
		if !declared[strings.ToLower(c.Name)] {
			problems = append(problems, fmt.Sprintf("extra column %s (%s)", c.Name, c.Type))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("contract not met: %s; fix the SQL or the columns in the model's .yml (the previous data is kept)",
		strings.Join(problems, "; "))
}

// sameType compares an engine's type with a declared data_type loosely: the integer types are
// one type (int, integer, bigint, ...), as are the string types (varchar, string, text) and the
// binary floating-point ones (double, float, real); timestamp and timestamptz stay distinct;
// decimal precision is compared only when the contract gives one. Case and spacing never matter.
func sameType(actual, declared string) bool {
	ac, ap := typeClass(actual)
	dc, dp := typeClass(declared)
	if ac != dc {
		return false
	}
	if ac == "decimal" && dp != "" {
		return ap == dp
	}
	return true
}

var typeClasses = map[string]string{
	"tinyint": "integer", "smallint": "integer", "int": "integer", "integer": "integer", "bigint": "integer",
	"hugeint": "integer", "int1": "integer", "int2": "integer", "int4": "integer", "int8": "integer",
	"int16": "integer", "int32": "integer", "int64": "integer", "short": "integer", "long": "integer",
	"signed": "integer", "utinyint": "integer", "usmallint": "integer", "uinteger": "integer",
	"ubigint": "integer", "uhugeint": "integer",
	"varchar": "string", "string": "string", "text": "string", "char": "string", "bpchar": "string",
	"character": "string", "character varying": "string", "nvarchar": "string",
	"double": "float", "double precision": "float", "float": "float", "float4": "float",
	"float8": "float", "float64": "float", "real": "float",
	"decimal": "decimal", "numeric": "decimal", "bignumeric": "decimal",
	"boolean": "boolean", "bool": "boolean", "logical": "boolean",
	"timestamp": "timestamp", "datetime": "timestamp", "timestamp without time zone": "timestamp",
	"timestamp_ns": "timestamp", "timestamp_ms": "timestamp", "timestamp_s": "timestamp",
	"timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
	"blob": "blob", "bytea": "blob", "bytes": "blob", "binary": "blob", "varbinary": "blob",
}

// typeClass returns the family of a type name and its parameters ("decimal", "18,2").
func typeClass(t string) (class, params string) {
	t = strings.ToLower(strings.Join(strings.Fields(t), " "))
	base := t
	if i := strings.IndexByte(t, '('); i >= 0 && strings.HasSuffix(t, ")") {
		base = strings.TrimSpace(t[:i])
		params = strings.ReplaceAll(t[i+1:len(t)-1], " ", "")
	}
	if c, ok := typeClasses[base]; ok {
		return c, params
	}
	return t, ""
}
