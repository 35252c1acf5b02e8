package run

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/compile"
)

func TestLeftoverTmpTableIsReplaced(t *testing.T) {
	wh := openWH(t)
	loadChain(t, wh)
	mustExec(t, wh, "create table main.a__cdp_tmp as select 'junk' as junk")
	if r := result(t, run(t, wh, chain()), "model.a"); r.Status != StatusSuccess || r.Rows != 1 {
		t.Errorf("%+v", r)
	}
	if got := queryInt(t, wh, "select count(*) from information_schema.tables where table_name like '%cdp_tmp'"); got != 0 {
		t.Errorf("%d tmp tables left", got)
	}
}

func TestEdgesForBuild(t *testing.T) {
	// A test gates the models that read what it tests, but never a model it itself reads.
	nodes := []*compile.Node{
		model("a", "table", "select 1", ""),
		model("b", "table", "select 1", "model.a"),
		testNode("rel_a_b", "select 1 where false", "model.a", ""),
		model("c", "table", "select 1", "model.a"),
	}
	nodes[2].DependsOn = []string{"model.a", "model.b"} // a relationships test reading b too
	nodes[0].DependsOn = nil
	e := &execution{nodes: map[string]*compile.Node{}}
	for _, n := range nodes {
		e.nodes[n.ID] = n
	}
	g := e.graph(nodes, nil)
	var got [][]string
	for _, n := range nodes {
		got = append(got, g.Parents(n.ID))
	}
	want := [][]string{{}, {"model.a"}, {"model.a", "model.b"}, {"model.a", "test.rel_a_b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
}
