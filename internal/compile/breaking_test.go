package compile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBreakingChanges(t *testing.T) {
	cols := func(c ...ManifestColumn) []ManifestColumn { return c }
	old := &Manifest{Nodes: map[string]*ManifestNode{
		"model.orders.v1": {ID: "model.orders.v1", Kind: KindModel, Path: "models/orders_v1.sql", ContractEnforced: true,
			Columns: cols(ManifestColumn{Name: "id", DataType: "int"}, ManifestColumn{Name: "amount", DataType: "double"})},
		"model.customers": {ID: "model.customers", Kind: KindModel, Path: "models/customers.sql", ContractEnforced: true,
			Columns: cols(ManifestColumn{Name: "id", DataType: "integer"}, ManifestColumn{Name: "email", DataType: "varchar"}, ManifestColumn{Name: "tier", DataType: "varchar"})},
		"model.loose":   {ID: "model.loose", Kind: KindModel, Path: "models/loose.sql", Columns: cols(ManifestColumn{Name: "a"})},
		"model.gone":    {ID: "model.gone", Kind: KindModel, Path: "models/gone.sql", ContractEnforced: true},
		"model.uncontr": {ID: "model.uncontr", Kind: KindModel, Path: "models/uncontr.sql", ContractEnforced: true},
		"model.same":    {ID: "model.same", Kind: KindModel, Path: "models/same.sql", ContractEnforced: true, Columns: cols(ManifestColumn{Name: "x", DataType: "TEXT"})},
	}}
	cur := &Manifest{Nodes: map[string]*ManifestNode{
		// v1 unchanged, v2 changes a type: fine, that is what versions are for.
		"model.orders.v1": old.Nodes["model.orders.v1"],
		"model.orders.v2": {ID: "model.orders.v2", Kind: KindModel, ContractEnforced: true,
			Columns: cols(ManifestColumn{Name: "id", DataType: "varchar"})},
		"model.customers": {ID: "model.customers", Kind: KindModel, Path: "models/customers.sql", ContractEnforced: true,
			Columns: cols(ManifestColumn{Name: "ID", DataType: "bigint"}, ManifestColumn{Name: "email_address", DataType: "varchar"}, ManifestColumn{Name: "tier", DataType: "integer"})},
		"model.loose":   {ID: "model.loose", Kind: KindModel},
		"model.uncontr": {ID: "model.uncontr", Kind: KindModel, Path: "models/uncontr.sql"},
		"model.same":    {ID: "model.same", Kind: KindModel, ContractEnforced: true, Columns: cols(ManifestColumn{Name: "x", DataType: "varchar"})},
	}}
	want := []BreakingChange{
		{ID: "model.customers", Path: "models/customers.sql", Change: "column email was removed or renamed (create a new version of the model for this change)"},
		{ID: "model.customers", Path: "models/customers.sql", Change: "column tier changed type from varchar to integer (create a new version of the model for this change)"},
		{ID: "model.gone", Path: "models/gone.sql", Change: "contracted model was removed (or disabled); keep it, or deprecate it as an old version first"},
		{ID: "model.uncontr", Path: "models/uncontr.sql", Change: "contract was removed; downstream users rely on it (add a new version instead)"},
	}
	if diff := cmp.Diff(want, BreakingChanges(old, cur)); diff != "" {
		t.Errorf("breaking changes (-want +got):\n%s", diff)
	}
}
