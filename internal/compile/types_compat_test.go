package compile

import "testing"

func TestTypeCompatible(t *testing.T) {
	tests := []struct {
		old, new string
		want     bool
	}{
		{"varchar(10)", "TEXT", true},
		{"string", "varchar", true},
		{"numeric(16, 2)", "DECIMAL(16,2)", true},
		{"decimal(16,2)", "decimal(18,4)", false},
		{"int", "INT64", true},
		{"integer", "bigint", true},
		{"bigint", "integer", false},
		{"integer", "double", false},
		{"float4", "double precision", true},
		{"timestamp", "timestamptz", false},
		{"timestamp with time zone", "TIMESTAMPTZ", true},
		{"varchar[]", "varchar[]", true},
		{"struct(a int)", "struct(a bigint)", false},
		{"bool", "", false},
	}
	for _, tc := range tests {
		if got := typeCompatible(tc.old, tc.new); got != tc.want {
			t.Errorf("typeCompatible(%q, %q) = %v, want %v", tc.old, tc.new, got, tc.want)
		}
	}
}

func TestBreakingChangesFromCompiles(t *testing.T) {
	before := shopProject()
	after := shopProject()
	after.Models[0].Columns = after.Models[0].Columns[:1] // drop status
	changes := BreakingChanges(BuildManifest(mustCompile(t, before)), BuildManifest(mustCompile(t, after)))
	want := "model.stg_orders (models/staging/stg_orders.sql): column status was removed or renamed (create a new version of the model for this change)"
	if len(changes) != 1 || changes[0].String() != want {
		t.Errorf("BreakingChanges = %v, want [%s]", changes, want)
	}
}
