package compile

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// shopProject is a small project using most features; testdata/shop is its golden target/.
func shopProject() *project.Project {
	stgOrders := mdl("stg_orders", `{{ config(materialized='view', tags=['staging']) }}

select
    id as order_id,
    customer_id,
    {{ cents_to_dollars('amount_cents') }} as amount,
    status
from {{ source('shop', 'orders') }}
`)
	stgOrders.Path = "models/staging/stg_orders.sql"
	stgOrders.Description = "{{ doc('orders') }}"
	stgOrders.Columns = []*project.Column{
		{Name: "order_id", DataType: "bigint", Description: "Primary key.", Tests: []*project.Test{{Name: "not_null", Pos: yml(8)}, {Name: "unique", Pos: yml(9)}}},
		{Name: "status", DataType: "varchar", Tests: []*project.Test{{Name: "accepted_values", Args: map[string]any{"values": []any{"placed", "shipped"}}, Pos: yml(12)}}},
	}
	stgOrders.Config.ContractEnforced = true
	customers := mdl("customers", "{{ config(materialized='ephemeral') }}\nselect distinct customer_id from {{ ref('stg_orders') }}\n")
	customers.Path = "models/intermediate/customers.sql"
	v1 := with(mdl("orders_v1", "{{ config(materialized='table') }}\nselect order_id, amount from {{ ref('stg_orders') }}\n"), func(m *project.Model) {
		m.ID, m.Name, m.Version, m.Path = "orders.v1", "orders", "1", "models/marts/orders_v1.sql"
		m.Latest = false
	})
	v2 := with(mdl("orders_v2", `{{ config(materialized='incremental', unique_key='order_id') }}
with c as (select * from {{ ref('customers') }})
select o.*, c.customer_id is not null as known
from {{ ref('stg_orders') }} o left join c using (customer_id)
{% if is_incremental() %}
where o.order_id > (select max(order_id) from {{ this }})
{% endif %}
`), func(m *project.Model) {
		m.ID, m.Name, m.Version, m.Path = "orders.v2", "orders", "2", "models/marts/orders_v2.sql"
	})
	v2.Columns = []*project.Column{{Name: "customer_id", Tests: []*project.Test{{Name: "relationships", Args: map[string]any{"to": "ref('stg_orders')", "field": "customer_id"}, Pos: yml(20)}}}}
	p := proj(stgOrders, customers, v1, v2)
	p.Dir = ""
	p.Sources = []*project.SourceTable{{ID: "shop.orders", Source: "shop", Name: "orders", Schema: "raw_shop", Identifier: "orders", Pos: config.Pos{File: "models/sources.yml", Line: 3}}}
	p.Seeds = []*project.Seed{{Name: "countries", Path: "seeds/countries.csv", Config: project.Config{Enabled: true}, ColumnTypes: map[string]string{"code": "varchar"}}}
	p.Macros = []*project.MacroFile{{Path: "macros/money.sql", Source: macrosSQL}}
	p.Tests = []*project.SingularTest{{Name: "no_negative_amounts", Path: "tests/no_negative_amounts.sql", SQL: "select * from {{ ref('orders') }} where amount < 0\n"}}
	p.Docs = map[string]string{"orders": "One row per order."}
	return p
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestWriteTargetGolden(t *testing.T) {
	r := mustCompile(t, shopProject())
	dir := t.TempDir()
	// A stale file from an earlier compile must disappear.
	if err := os.MkdirAll(filepath.Join(dir, "compiled", "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compiled", "models", "gone.sql"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run_results.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTarget(dir, r); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dir)
	if got["run_results.json"] != "{}" {
		t.Error("WriteTarget removed a file it does not own")
	}
	delete(got, "run_results.json")
	golden := filepath.Join("testdata", "shop")
	if *update {
		if err := os.RemoveAll(golden); err != nil {
			t.Fatal(err)
		}
		for name, content := range got {
			p := filepath.Join(golden, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(readTree(t, golden), got); diff != "" {
		t.Errorf("target/ differs from %s (-want +got; go test -update rewrites it):\n%s", golden, diff)
	}

	// Writing again gives the same bytes.
	if err := WriteTarget(dir, mustCompile(t, shopProject())); err != nil {
		t.Fatal(err)
	}
	again := readTree(t, dir)
	delete(again, "run_results.json")
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("second write differs (-first +second):\n%s", diff)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}

	// ReadManifest reads back what BuildManifest describes.
	m, err := ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(BuildManifest(r))
	back, _ := json.Marshal(m)
	if !bytes.Equal(want, back) {
		t.Errorf("ReadManifest round trip differs:\nwant %s\ngot  %s", want, back)
	}
	n := m.Nodes["model.orders.v2"]
	if n == nil || n.Version != "2" || !n.Latest || n.Relation.Name != "orders_v2" || n.Materialized != "incremental" || n.Fingerprint != r.Nodes["model.orders.v2"].Fingerprint {
		t.Errorf("manifest node model.orders.v2 = %+v", n)
	}
	if s := m.Nodes["model.stg_orders"]; !s.ContractEnforced || s.Columns[0].DataType != "bigint" {
		t.Errorf("manifest node model.stg_orders = %+v", s)
	}
}

func TestReadManifestErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if _, err := ReadManifest(bad); err == nil {
		t.Error("ReadManifest accepted broken JSON")
	}
	newer := filepath.Join(dir, "newer.json")
	os.WriteFile(newer, []byte(`{"version": 99, "nodes": {}}`), 0o644)
	if _, err := ReadManifest(newer); err == nil {
		t.Error("ReadManifest accepted a newer version")
	}
	if _, err := ReadManifest(filepath.Join(dir, "missing.json")); !os.IsNotExist(err) {
		t.Errorf("missing manifest: %v, want a not-exist error", err)
	}
}
