package dag_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/dag"
)

// selectGraph is a small project:
//
//	raw -> stg_orders -> int_orders -> fct_orders -> rpt_daily
//	raw -> stg_users -> dim_users -> fct_orders -> audience_vip
//	                    dim_users -> audience_vip
//	lonely
//
// Its topological order is lonely, raw, stg_orders, int_orders, stg_users, dim_users,
// fct_orders, audience_vip, rpt_daily.
func selectGraph() (*dag.Graph, dag.Resolver) {
	g := build(`raw>stg_orders raw>stg_users stg_orders>int_orders int_orders>fct_orders
		stg_users>dim_users dim_users>fct_orders fct_orders>rpt_daily dim_users>audience_vip
		fct_orders>audience_vip lonely`)
	return g, resolver(g, map[string][]string{
		"tag:nightly":               {"fct_orders", "dim_users", "rpt_daily", "lonely"},
		"tag:pii":                   {"stg_users", "dim_users"},
		"path:models/staging":       {"stg_orders", "stg_users"},
		"config.materialized:table": {"fct_orders", "dim_users"},
		"source:raw.events":         {"raw"},
	})
}

func TestSelect(t *testing.T) {
	all := []string{"lonely", "raw", "stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders", "audience_vip", "rpt_daily"}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{"empty selects all", nil, nil, all},
		{"blank selects all", []string{" "}, nil, all},
		{"name", []string{"fct_orders"}, nil, []string{"fct_orders"}},
		{"descendants", []string{"fct_orders+"}, nil, []string{"fct_orders", "audience_vip", "rpt_daily"}},
		{"ancestors", []string{"+fct_orders"}, nil, []string{"raw", "stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders"}},
		{"both", []string{"+dim_users+"}, nil, []string{"raw", "stg_users", "dim_users", "fct_orders", "audience_vip", "rpt_daily"}},
		{"ancestors depth 1", []string{"1+fct_orders"}, nil, []string{"int_orders", "dim_users", "fct_orders"}},
		{"ancestors depth 2", []string{"2+fct_orders"}, nil, []string{"stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders"}},
		{"descendants depth 1", []string{"dim_users+1"}, nil, []string{"dim_users", "fct_orders", "audience_vip"}},
		{"both depths", []string{"1+dim_users+1"}, nil, []string{"stg_users", "dim_users", "fct_orders", "audience_vip"}},
		{"depth 0", []string{"0+dim_users+0"}, nil, []string{"dim_users"}},
		{"big depth", []string{"99+rpt_daily"}, nil, []string{"raw", "stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders", "rpt_daily"}},
		// @: dim_users, its descendants, and their ancestors, so int_orders and stg_orders too.
		{"at", []string{"@dim_users"}, nil, []string{"raw", "stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders", "audience_vip", "rpt_daily"}},
		{"at leaf", []string{"@rpt_daily"}, nil, []string{"raw", "stg_orders", "int_orders", "stg_users", "dim_users", "fct_orders", "rpt_daily"}},
		{"union in one string", []string{"rpt_daily lonely"}, nil, []string{"lonely", "rpt_daily"}},
		{"union across strings", []string{"rpt_daily", "  lonely\t"}, nil, []string{"lonely", "rpt_daily"}},
		{"intersection", []string{"tag:nightly,+fct_orders"}, nil, []string{"dim_users", "fct_orders"}},
		{"intersection of three", []string{"tag:nightly,tag:pii,dim_users+"}, nil, []string{"dim_users"}},
		{"intersection empty", []string{"lonely,raw"}, nil, []string{}},
		{"union of intersections", []string{"tag:nightly,+fct_orders tag:pii,stg_users"}, nil, []string{"stg_users", "dim_users", "fct_orders"}},
		{"method", []string{"tag:pii"}, nil, []string{"stg_users", "dim_users"}},
		{"method ancestors", []string{"+tag:pii"}, nil, []string{"raw", "stg_users", "dim_users"}},
		{"method descendants depth", []string{"tag:pii+1"}, nil, []string{"stg_users", "dim_users", "fct_orders", "audience_vip"}},
		{"method at", []string{"@source:raw.events"}, nil, all[1:]},
		{"dotted method", []string{"config.materialized:table"}, nil, []string{"dim_users", "fct_orders"}},
		{"path method", []string{"path:models/staging+1"}, nil, []string{"stg_orders", "int_orders", "stg_users", "dim_users"}},
		{"wildcard", []string{"stg_*"}, nil, []string{"stg_orders", "stg_users"}},
		{"exclude", []string{"+fct_orders"}, []string{"tag:pii"}, []string{"raw", "stg_orders", "int_orders", "fct_orders"}},
		{"exclude from all", nil, []string{"fct_orders+ raw"}, []string{"lonely", "stg_orders", "int_orders", "stg_users", "dim_users"}},
		{"exclude with operators", []string{"raw+"}, []string{"+int_orders", "dim_users+"}, []string{"stg_users"}},
		{"exclude everything", []string{"lonely"}, []string{"lonely"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, resolve := selectGraph()
			got, err := g.Select(tt.include, tt.exclude, resolve)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestSelectDefaultResolver(t *testing.T) {
	g, _ := selectGraph()
	got, err := g.Select([]string{"stg_*+1", "lonely"}, []string{"stg_orders"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lonely", "int_orders", "stg_users", "dim_users"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := g.Select([]string{"tag:x"}, nil, nil); err == nil || err.Error() != `selector "tag:x": unknown selector method "tag"` {
		t.Errorf("method without resolver: %v", err)
	}
}

func TestSelectNoMatch(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		want             []string // still returned with the error
		wantErr          string
		wantSelectors    []string
	}{
		{
			name:    "unknown name",
			include: []string{"nope"},
			want:    []string{},
			wantErr: `selector "nope" matched nothing`, wantSelectors: []string{"nope"},
		},
		{
			name:    "rest of the selection survives",
			include: []string{"+nope+ lonely"},
			want:    []string{"lonely"},
			wantErr: `selector "+nope+" matched nothing`, wantSelectors: []string{"+nope+"},
		},
		{
			name:    "several, in input order, once each",
			include: []string{"tag:none,lonely nope tag:none"},
			exclude: []string{"missing"},
			want:    []string{},
			wantErr: `selectors "tag:none", "nope", "missing" matched nothing`, wantSelectors: []string{"tag:none", "nope", "missing"},
		},
		{
			name:    "exclude matching nothing",
			include: []string{"lonely"},
			exclude: []string{"stg_x*"},
			want:    []string{"lonely"},
			wantErr: `selector "stg_x*" matched nothing`, wantSelectors: []string{"stg_x*"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, resolve := selectGraph()
			got, err := g.Select(tt.include, tt.exclude, resolve)
			var nm *dag.NoMatchError
			if !errors.As(err, &nm) {
				t.Fatalf("err = %v, want *NoMatchError", err)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("err = %q, want %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSelectors, nm.Selectors); diff != "" {
				t.Errorf("Selectors (-want +got)\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("selection (-want +got)\n%s", diff)
			}
		})
	}
}

func TestSelectResolverSaysEmptyIsFine(t *testing.T) {
	g, base := selectGraph()
	resolve := func(method, value string) ([]string, error) {
		if method == "state" && value == "modified" {
			return nil, fmt.Errorf("no changes since the last run: %w", dag.ErrEmptyOK)
		}
		return base(method, value)
	}
	got, err := g.Select([]string{"state:modified+ lonely"}, []string{"state:modified"}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lonely"}, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		name    string
		include []string
		exclude []string
		wantErr string
	}{
		{"at with plus", []string{"@fct_orders+"}, nil, `invalid selector "@fct_orders+": "@" cannot be combined with "+"`},
		{"at with depth", []string{"2+@fct_orders"}, nil, `invalid selector "2+@fct_orders": misplaced "+" or "@" (use [@][N+]name[+N])`},
		{"plus alone", []string{"+"}, nil, `invalid selector "+": no node name or method value`},
		{"double plus", []string{"++a"}, nil, `invalid selector "++a": misplaced "+" or "@" (use [@][N+]name[+N])`},
		{"trailing double plus", []string{"a++"}, nil, `invalid selector "a++": misplaced "+" or "@" (use [@][N+]name[+N])`},
		{"at alone", []string{"@"}, nil, `invalid selector "@": no node name or method value`},
		{"depth without name", []string{"2+"}, nil, `invalid selector "2+": no node name or method value`},
		{"method without value", []string{"tag:"}, nil, `invalid selector "tag:": no node name or method value`},
		{"empty intersection term", []string{"a,,b"}, nil, `invalid selector "a,,b": empty term around ','`},
		{"trailing comma", nil, []string{"a,"}, `invalid selector "a,": empty term around ','`},
		{"depth overflow", []string{"99999999999999999999+a"}, nil, `invalid selector "99999999999999999999+a": depth 99999999999999999999 is out of range`},
		{"resolver error", []string{"lonely", "bogus:x"}, nil, `selector "bogus:x": unknown method "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, resolve := selectGraph()
			got, err := g.Select(tt.include, tt.exclude, resolve)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var nm *dag.NoMatchError
			if errors.As(err, &nm) || got != nil {
				t.Errorf("got %v, %T; want nil and a hard error", got, err)
			}
		})
	}
}

func TestSelectResolverReturnsUnknownNode(t *testing.T) {
	g, _ := selectGraph()
	_, err := g.Select([]string{"tag:x"}, nil, func(string, string) ([]string, error) { return []string{"ghost"}, nil })
	if want := `selector "tag:x": resolved to "ghost", which is not in the graph`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestSelectCycle(t *testing.T) {
	g := build("a>b b>a c")
	_, err := g.Select([]string{"c"}, nil, nil)
	var ce *dag.CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CycleError", err)
	}
}

func TestSelectLarge(t *testing.T) {
	p := genProject(10_000, 3)
	resolve := resolver(p.g, p.tags)
	got, err := p.g.Select([]string{"+" + p.marts[100] + "+", "tag:nightly,+" + p.marts[2000]}, []string{"tag:pii"}, resolve)
	if err != nil {
		t.Fatal(err)
	}
	checkTopological(t, p.g, got)
	in := map[string]bool{}
	for _, id := range got {
		in[id] = true
	}
	if !in[p.marts[100]] {
		t.Errorf("%s not selected", p.marts[100])
	}
	for _, a := range p.g.Ancestors(p.marts[100], -1) {
		if !in[a] && !contains(p.tags["tag:pii"], a) {
			t.Errorf("ancestor %s not selected", a)
		}
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
