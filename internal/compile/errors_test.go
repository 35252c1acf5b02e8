package compile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/config"
	"github.com/cdp-dev/cdp/internal/project"
)

func TestErrors(t *testing.T) {
	disabled := with(mdl("old", "select 1"), func(m *project.Model) { m.Config.Enabled = false })
	tests := []struct {
		name   string
		models []*project.Model
		setup  func(p *project.Project)
		want   string
	}{
		{
			name:   "unknown ref with a suggestion",
			models: []*project.Model{mdl("stg_orders", "select 1"), mdl("x", "select\n  *\nfrom {{ ref('stg_order') }}\n")},
			want:   "models/x.sql:3: ref('stg_order') not found; did you mean stg_orders?",
		},
		{
			name:   "unknown ref without a close name",
			models: []*project.Model{mdl("x", "select * from {{ ref('zzz') }}")},
			want:   "models/x.sql:1: ref('zzz') not found: no model or seed is named zzz",
		},
		{
			name:   "ref to a source table",
			models: []*project.Model{mdl("x", "select * from {{ ref('events') }}")},
			want:   "models/x.sql:1: ref('events') not found; events is a source table: use source('raw', 'events')",
		},
		{
			name: "unknown version",
			models: []*project.Model{
				with(mdl("o1", "select 1"), func(m *project.Model) { m.ID, m.Name, m.Version = "orders.v1", "orders", "1" }),
				with(mdl("o2", "select 1"), func(m *project.Model) { m.ID, m.Name, m.Version = "orders.v2", "orders", "2" }),
				mdl("x", "select * from {{ ref('orders', v=3) }}"),
			},
			want: "models/x.sql:1: ref('orders', v=3) not found: model orders has versions 1, 2",
		},
		{
			name:   "unknown source",
			models: []*project.Model{mdl("x", "\n{{ source('raw', 'event') }}")},
			want:   "models/x.sql:2: source('raw', 'event') not found; did you mean source('raw', 'events')?",
		},
		{
			name:   "unknown source name",
			models: []*project.Model{mdl("x", "{{ source('segment', 'tracks') }}")},
			want:   "models/x.sql:1: source('segment', 'tracks') not found; declare it under sources: in a models/*.yml file",
		},
		{
			name:   "undefined var",
			models: []*project.Model{mdl("x", "select\n{% if true %}\n  {{ var('start_date') }}\n{% endif %}")},
			want:   "models/x.sql:3: var('start_date') is not defined; set it under vars: in cdp.yaml, pass --vars '{start_date: ...}', or give a default: var('start_date', ...)",
		},
		{
			name:   "unset env var",
			models: []*project.Model{mdl("x", "select '{{ env_var('CDP_NOPE') }}'")},
			want:   "models/x.sql:1: env_var('CDP_NOPE'): environment variable CDP_NOPE is not set; export it or give a default: env_var('CDP_NOPE', '...')",
		},
		{
			name:   "syntax error",
			models: []*project.Model{mdl("x", "select\n  {{ ref('a' }}\n")},
			want:   `models/x.sql:2: template syntax error: expected either a number, string, keyword or identifier near "}}"; check that every {{ }}, {% %} and {# #} is closed and every {% if/for/macro %} has its {% end... %}`,
		},
		{
			name:   "unclosed block",
			models: []*project.Model{mdl("x", "select 1\n{% if true %}\nwhere x\n")},
			want:   `models/x.sql:3: template syntax error: Unable to parse controlStructure "if": Unexpected EOF, expected tag elif or else or endif; check that every {{ }}, {% %} and {# #} is closed and every {% if/for/macro %} has its {% end... %}`,
		},
		{
			name:   "undefined name with a suggestion",
			models: []*project.Model{mdl("x", "select\n{{ cents_to_dolars('a') }}")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/money.sql", Source: macrosSQL}}
			},
			want: `models/x.sql:2: "cents_to_dolars" is undefined; did you mean cents_to_dollars?`,
		},
		{
			name:   "undefined name",
			models: []*project.Model{mdl("x", "select {{ foo }}")},
			want:   `models/x.sql:1: "foo" is undefined; define it with {% set foo = ... %}, read a project variable with var('foo'), or put a macro named foo under macros/`,
		},
		{
			name:   "run_started_at is left out",
			models: []*project.Model{mdl("x", "select '{{ run_started_at }}'")},
			want:   "models/x.sql:1: run_started_at is not available in cdp: a model must render the same SQL on every compile so its fingerprint is stable; use current_timestamp in the SQL instead",
		},
		{
			name:   "error inside a macro names the macro file and line",
			models: []*project.Model{mdl("x", "select\n{{ bad() }}")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/bad.sql", Source: "{% macro bad() %}\n  select\n  {{ ref('nope') }}\n{% endmacro %}"}}
			},
			want: "macros/bad.sql:3: in macro bad: ref('nope') not found: no model or seed is named nope",
		},
		{
			name:   "undefined name inside a nested macro",
			models: []*project.Model{mdl("x", "select {{ outer() }}")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{
					{Path: "macros/a.sql", Source: "{% macro outer() %}{{ inner() }}{% endmacro %}"},
					{Path: "macros/b.sql", Source: "\n\n{% macro inner() %}\n{{ nope }}\n{% endmacro %}"},
				}
			},
			want: `macros/b.sql:4: in macro inner: "nope" is undefined; define it with {% set nope = ... %}, read a project variable with var('nope'), or put a macro named nope under macros/`,
		},
		{
			name:   "macro called without a required argument",
			models: []*project.Model{mdl("x", "select\n{{ cents_to_dollars() }}")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/money.sql", Source: macrosSQL}}
			},
			want: `models/x.sql:2: cents_to_dollars(): parameter "col" was not provided (macro cents_to_dollars is defined at macros/money.sql:1)`,
		},
		{
			name:   "macro called with an unknown keyword argument",
			models: []*project.Model{mdl("x", "select {{ cents_to_dollars('a', precision=2) }}")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/money.sql", Source: macrosSQL}}
			},
			want: `models/x.sql:1: cents_to_dollars(): takes no keyword argument 'precision' (macro cents_to_dollars is defined at macros/money.sql:1)`,
		},
		{
			name:   "macro defined twice",
			models: []*project.Model{mdl("x", "select 1")},
			setup: func(p *project.Project) {
				p.Macros = []*project.MacroFile{{Path: "macros/a.sql", Source: "{% macro m() %}{% endmacro %}"}, {Path: "macros/b.sql", Source: "\n{% macro m() %}{% endmacro %}"}}
			},
			want: "macros/b.sql:2: macro m is defined twice: here and in macros/a.sql:1; rename one of them",
		},
		{
			name:   "raise_compiler_error",
			models: []*project.Model{mdl("x", "\n{{ exceptions.raise_compiler_error('x needs a key') }}")},
			want:   "models/x.sql:2: x needs a key",
		},
		{
			name:   "ref to a disabled model",
			models: []*project.Model{disabled, mdl("x", "select * from {{ ref('old') }}")},
			want:   "models/x.sql:1: ref('old') refers to a disabled model (models/old.sql sets enabled: false); enable it or remove the ref",
		},
		{
			name:   "ref to a model disabled by its own config()",
			models: []*project.Model{mdl("gone", "{{ config(enabled=false) }}select 1"), mdl("x", "select 1\nfrom {{ ref('gone') }}")},
			want:   "models/x.sql:2: ref('gone') refers to a disabled model (models/gone.sql sets enabled: false); enable it or remove the ref",
		},
		{
			name:   "self ref",
			models: []*project.Model{mdl("x", "select * from {{ ref('x') }}")},
			want:   "models/x.sql:1: ref('x'): a model cannot ref itself; use {{ this }} for its own relation",
		},
		{
			name: "cycle",
			models: []*project.Model{
				mdl("b", "select * from {{ ref('c') }}"),
				mdl("a", "select 1\nfrom {{ ref('b') }}"),
				mdl("c", "select * from {{ ref('a') }}"),
				mdl("d", "select * from {{ ref('a') }}"),
			},
			want: "models/a.sql:2: dependency cycle: a -> b -> c -> a (models/a.sql -> models/b.sql -> models/c.sql -> models/a.sql); each model refs the next: remove one of these refs",
		},
		{
			name:   "bad config value",
			models: []*project.Model{mdl("x", "{{ config(materialized=3) }}")},
			want:   "models/x.sql:1: config(materialized=...): want a string, got 3",
		},
		{
			name: "unknown doc",
			models: []*project.Model{with(mdl("x", "select 1"), func(m *project.Model) {
				m.Description = "{{ doc('order') }}"
				m.Pos.File, m.Pos.Line = "models/x.yml", 4
			})},
			setup: func(p *project.Project) { p.Docs = map[string]string{"orders": "..."} },
			want:  "models/x.yml:4: description: doc('order') not found; did you mean doc('orders')?",
		},
		{
			name:   "return outside a macro",
			models: []*project.Model{mdl("x", "{{ return(1) }}")},
			want:   "models/x.sql:1: return() can only be used inside a macro",
		},
		{
			name:   "include is not supported",
			models: []*project.Model{mdl("x", "{% include 'other.sql' %}")},
			want:   `models/x.sql:1: failed to resolve filename: cannot load "other.sql": {% include %}, {% import %} and {% extends %} are not supported; macros under macros/ are callable from every model by name`,
		},
		{
			name: "every error at once, in file order",
			models: []*project.Model{
				mdl("z", "{{ ref('nope1') }}"),
				mdl("a", "\n{{ var('v') }}"),
				mdl("m", "{{ source('raw', 'nope') }}"),
			},
			want: strings.Join([]string{
				"models/a.sql:2: var('v') is not defined; set it under vars: in cdp.yaml, pass --vars '{v: ...}', or give a default: var('v', ...)",
				"models/m.sql:1: source('raw', 'nope') not found; source raw has tables events",
				"models/z.sql:1: ref('nope1') not found: no model or seed is named nope1",
			}, "\n"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proj(tc.models...)
			p.Sources = []*project.SourceTable{src("raw", "events")}
			if tc.setup != nil {
				tc.setup(p)
			}
			got := compileErr(t, p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorsAreConfigErrors(t *testing.T) {
	_, err := Compile(proj(mdl("x", "{{ ref('y') }}")), testOpts)
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("error %T %v is not config.Errors with one error", err, err)
	}
	if want := (config.Pos{File: "models/x.sql", Line: 1}); es[0].Pos != want {
		t.Errorf("Pos = %v, want %v", es[0].Pos, want)
	}
}

func TestUnclosedTagLine(t *testing.T) {
	for src, want := range map[string]int{
		"select 1":               0,
		"select {{ a }}\nfrom x": 0,
		"select *\nfrom {{ ref('a') }}\nwhere {{ x }": 3,
		"{% if x %}\nselect 1\n{% endif":              3,
		"{# note\nselect {{ a }}":                     1,
		"{{ a }}\n{% set b = 1 %\n{{ b }}":            2,
	} {
		if got := unclosedTagLine(src); got != want {
			t.Errorf("unclosedTagLine(%q) = %d, want %d", src, got, want)
		}
	}
}
