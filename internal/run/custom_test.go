package run

import (
	"context"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/compile"
)

func init() {
	// A materialization that builds its table and an audit sibling in one commit.
	RegisterMaterialization("test_custom", func(ctx context.Context, b *Build) error {
		d := b.WH.Dialect()
		if err := b.EnsureSchema(ctx); err != nil {
			return err
		}
		tmp := b.Scratch("new")
		if err := b.WH.Exec(ctx, "CREATE OR REPLACE TABLE "+d.Relation(tmp)+" AS "+b.Node.SQL); err != nil {
			return err
		}
		stmts, err := b.ReplaceTable(ctx, tmp, b.Relation())
		if err != nil {
			return err
		}
		audit := b.Sibling("audit")
		stmts = append(stmts, "CREATE TABLE IF NOT EXISTS "+d.Relation(audit)+" (run_id VARCHAR)",
			"INSERT INTO "+d.Relation(audit)+" VALUES ("+d.QuoteString(b.RunID)+")")
		return b.Commit(ctx, 2, "built custom", stmts...)
	})
}

func TestCustomMaterialization(t *testing.T) {
	wh := openWH(t)
	n := model("c", "test_custom", "select 1 as a union all select 2")
	r := result(t, run(t, wh, []*compile.Node{n}), "model.c")
	if r.Status != StatusSuccess || r.Rows != 2 || r.Message != "built custom; first build" && !strings.HasPrefix(r.Message, "built custom") {
		t.Fatalf("first build: %+v", r)
	}
	if got := queryInt(t, wh, "select count(*) from main.c"); got != 2 {
		t.Errorf("main.c has %d rows", got)
	}
	if got := queryInt(t, wh, "select count(*) from main.c_audit"); got != 1 {
		t.Errorf("audit has %d rows", got)
	}
	// Unchanged: skipped like any model.
	if r := result(t, run(t, wh, []*compile.Node{n}), "model.c"); r.Status != StatusSkippedUnchanged {
		t.Errorf("second run: %+v", r)
	}
	// Unknown materializations name the ones that exist.
	bad := model("b", "nosuch", "select 1")
	if r := result(t, run(t, wh, []*compile.Node{bad}), "model.b"); r.Status != StatusError || !strings.Contains(r.Error, "test_custom") {
		t.Errorf("unknown materialization: %+v", r)
	}
}
