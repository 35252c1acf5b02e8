package compile

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

// genProject builds a dbt-shaped project in memory: n models in staging (25%), intermediate
// (40%) and marts (35%) layers, each model reading 1-4 models of the layers below (staging
// models read sources), with macros, vars, config() calls, ephemeral and incremental models,
// for loops, and column tests.
func genProject(n int) *project.Project {
	rng := rand.New(rand.NewPCG(1, 2))
	p := &project.Project{Name: "bench", Vars: map[string]any{"start_date": "2020-01-01", "currency": "EUR"}, Docs: map[string]string{}}
	const nSources = 40
	for i := range nSources {
		p.Sources = append(p.Sources, &project.SourceTable{
			ID: fmt.Sprintf("raw.t%02d", i), Source: "raw", Name: fmt.Sprintf("t%02d", i), Schema: "raw", Identifier: fmt.Sprintf("t%02d", i),
		})
	}
	p.Macros = []*project.MacroFile{
		{Path: "macros/money.sql", Source: `{% macro cents_to_dollars(col, scale=2) -%}
    round(({{ col }} / 100.0)::numeric(16, {{ scale }}), {{ scale }})
{%- endmacro %}

{% macro safe_divide(a, b) -%}
    case when {{ b }} = 0 then null else {{ a }} / {{ b }} end
{%- endmacro %}
`},
		{Path: "macros/dates.sql", Source: `{% macro since_start(col) -%}
    {{ col }} >= '{{ var("start_date") }}'
{%- endmacro %}

{% macro surrogate_key(cols) -%}
    md5({% for c in cols %}coalesce(cast({{ c }} as varchar), ''){% if not loop.last %} || '-' || {% endif %}{% endfor %})
{%- endmacro %}
`},
		{Path: "macros/tests.sql", Source: `{% test positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} < 0
{% endtest %}
`},
	}
	nStg, nInt := n/4, n*2/5
	name := func(i int) string {
		switch {
		case i < nStg:
			return fmt.Sprintf("stg_%05d", i)
		case i < nStg+nInt:
			return fmt.Sprintf("int_%05d", i)
		}
		return fmt.Sprintf("fct_%05d", i)
	}
	ephemeral := map[int]bool{}
	for i := range n {
		var b strings.Builder
		m := &project.Model{ID: name(i), Name: name(i), Latest: true, Config: project.Config{Enabled: true}}
		m.Path = "models/" + strings.SplitN(name(i), "_", 2)[0] + "/" + name(i) + ".sql"
		m.Pos = config.Pos{File: m.Path, Line: 1}
		switch {
		case i < nStg:
			fmt.Fprintf(&b, "{{ config(materialized='view', tags=['staging']) }}\n\nwith source as (\n    select * from {{ source('raw', 't%02d') }}\n),\n\n", rng.IntN(nSources))
			b.WriteString("renamed as (\n    select\n        id as order_id,\n        customer_id,\n        {{ cents_to_dollars('amount_cents') }} as amount,\n        status,\n        created_at\n    from source\n    where {{ since_start('created_at') }}\n)\n\nselect * from renamed\n")
			m.Columns = []*project.Column{{Name: "order_id", Tests: []*project.Test{{Name: "not_null"}, {Name: "unique"}}}}
		default:
			lo, hi := 0, nStg
			if i >= nStg+nInt {
				lo, hi = nStg, i
			} else if i > nStg {
				hi = i
			}
			k := 1 + rng.IntN(4)
			var parents []int
			for range k {
				parents = append(parents, lo+rng.IntN(hi-lo))
			}
			mat := "table"
			switch {
			case i < nStg+nInt && rng.IntN(10) == 0:
				mat = "ephemeral"
				ephemeral[i] = true
			case i >= nStg+nInt && rng.IntN(4) == 0:
				mat = "incremental"
			}
			fmt.Fprintf(&b, "{{ config(materialized='%s', unique_key='order_id', tags=['%s']) }}\n\n", mat, strings.SplitN(name(i), "_", 2)[0])
			b.WriteString("{%- set metrics = ['amount', 'quantity', 'discount'] %}\n\nwith\n")
			for j, pi := range parents {
				fmt.Fprintf(&b, "p%d as (\n    select * from {{ ref('%s') }}\n),\n", j, name(pi))
			}
			b.WriteString("joined as (\n    select\n        p0.order_id,\n        p0.customer_id,\n")
			b.WriteString("        {%- for m in metrics %}\n        sum(p0.{{ m }}) as total_{{ m }},\n        {%- endfor %}\n")
			b.WriteString("        {{ safe_divide('sum(p0.amount)', 'count(*)') }} as avg_amount,\n        {{ surrogate_key(['p0.order_id', 'p0.customer_id']) }} as sk\n    from p0\n")
			for j := 1; j < len(parents); j++ {
				fmt.Fprintf(&b, "    left join p%d using (order_id)\n", j)
			}
			b.WriteString("    group by 1, 2\n)\n\nselect * from joined\n")
			if mat == "incremental" {
				b.WriteString("{% if is_incremental() %}\nwhere created_at > (select max(created_at) from {{ this }})\n{% endif %}\n")
			}
			if mat != "ephemeral" && rng.IntN(3) == 0 {
				m.Columns = []*project.Column{{Name: "order_id", Tests: []*project.Test{{Name: "not_null"}}}, {Name: "avg_amount", Tests: []*project.Test{{Name: "positive"}}}}
			}
		}
		m.SQL = b.String()
		p.Models = append(p.Models, m)
	}
	return p
}

func TestGenProjectCompiles(t *testing.T) {
	p := genProject(400)
	r := mustCompile(t, p)
	if len(r.Order) < 400 {
		t.Fatalf("%d nodes", len(r.Order))
	}
}

func BenchmarkCompile10k(b *testing.B) {
	p := genProject(10_000)
	opts := testOpts
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := Compile(p, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Nodes) < 10_000 {
			b.Fatalf("%d nodes", len(r.Nodes))
		}
	}
}
