package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeProject writes a project of n models in three layers (staging reads a source,
// intermediate and marts ref 1-4 models of the layers below), with a macro and a var, the
// shape of a real dbt project.
func writeProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"cdp.yaml": "name: bench\ntarget: dev\ntargets:\n  dev:\n    type: duckdb\n    path: .cdp/w.duckdb\nvars:\n  min_amount: 0\n" +
			"sources:\n  orders:\n    format: csv\n    contract:\n      fields:\n        - {name: id, type: integer, required: true}\n        - {name: amount, type: integer}\n",
		"orders.csv":         "id,amount\n1,100\n2,250\n3,990\n",
		"models/sources.yml": "version: 2\nsources:\n  - name: raw\n    tables:\n      - name: orders\n",
		"macros/cents.sql":   "{% macro cents(col) %}({{ col }} / 100.0){% endmacro %}\n",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	staging := n / 5
	inter := n * 2 / 5
	for i := 0; i < n; i++ {
		var sql string
		switch {
		case i < staging:
			sql = fmt.Sprintf("select id, amount, {{ cents('amount') }} as dollars from {{ source('raw', 'orders') }} where amount > {{ var('min_amount') }} and id %% %d = 0\n", i+1)
			files[fmt.Sprintf("models/staging/stg_%05d.sql", i)] = sql
			continue
		case i < staging+inter:
			sql = "{{ config(materialized='table') }}\nselect a.id, a.amount"
		default:
			sql = "select a.id, a.amount"
		}
		k := 1 + rng.IntN(4)
		from := "{{ ref('" + name(rng.IntN(i), staging, inter) + "') }} a"
		for j := 1; j < k; j++ {
			from += fmt.Sprintf("\n  join {{ ref('%s') }} t%d using (id)", name(rng.IntN(i), staging, inter), j)
		}
		sql += "\nfrom " + from + "\n"
		layer := "intermediate"
		if i >= staging+inter {
			layer = "marts"
		}
		files[fmt.Sprintf("models/%s/%s.sql", layer, name(i, staging, inter))] = sql
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

func name(i, staging, inter int) string {
	switch {
	case i < staging:
		return fmt.Sprintf("stg_%05d", i)
	case i < staging+inter:
		return fmt.Sprintf("int_%05d", i)
	}
	return fmt.Sprintf("mart_%05d", i)
}

func runCLI(b *testing.B, args ...string) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), args, nil, &out, &errOut); code != 0 {
		b.Fatalf("cdp %v: exit %d\n%s%s", args, code, out.String(), errOut.String())
	}
}

// BenchmarkCompile10kModels is `cdp compile --no-validate` on a 10,000-model project read from
// disk: project reading, rendering, the DAG, fingerprints and writing target/.
func BenchmarkCompile10kModels(b *testing.B) {
	dir := writeProject(b, 10_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runCLI(b, "compile", "--no-validate", "--quiet", "--project-dir", dir)
	}
}

// BenchmarkNoopRunModels100 is a second `cdp run models` on 100 unchanged models, end to end:
// read, compile, open the warehouse, decide every model is unchanged.
func BenchmarkNoopRunModels100(b *testing.B) {
	dir := writeProject(b, 100)
	runCLI(b, "load", "orders", filepath.Join(dir, "orders.csv"), "--project-dir", dir, "--quiet")
	runCLI(b, "run", "models", "--quiet", "--project-dir", dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runCLI(b, "run", "models", "--quiet", "--project-dir", dir)
	}
}
