package identity

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
	"github.com/cdp-dev/cdp/internal/warehouse/duckdb"
)

func TestExpTmp(t *testing.T) {
	path := os.Getenv("EXP_DB")
	if path == "" {
		t.Skip()
	}
	ctx := context.Background()
	wh, err := duckdb.Open(ctx, warehouse.Config{Type: "duckdb", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	rules, _ := ParseRules(segmentRules())
	rules.Resolve([]string{"message_id", "timestamp", "anonymous_id", "user_id", "previous_id", "email", "phone", "device_id"})
	r := newResolver(wh, rules, "exp_", nil)
	defer r.cleanup(ctx)
	type st struct {
		d time.Duration
		s string
	}
	var sts []st
	r.trace = func(d time.Duration, s string) { sts = append(sts, st{d, s}) }
	t0 := time.Now()
	if err := r.run(ctx, "(select * from main.obs)", outputs{Map: "main.e_map", Edges: "main.e_edges", Dropped: "main.e_dropped", Events: os.Getenv("EXP_EVENTS"), RunID: "x"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("total %.2fs", time.Since(t0).Seconds())
	sort.Slice(sts, func(i, j int) bool { return sts[i].d > sts[j].d })
	for _, s := range sts[:min(15, len(sts))] {
		t.Log(fmt.Sprintf("%6.2fs %s", s.d.Seconds(), strings.Join(strings.Fields(s.s), " ")[:120]))
	}
}

func TestExpSQL(t *testing.T) {
	path := os.Getenv("EXP_DB")
	if path == "" || os.Getenv("EXP_SQL") == "" {
		t.Skip()
	}
	wh, err := duckdb.Open(context.Background(), warehouse.Config{Type: "duckdb", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	for _, q := range strings.Split(os.Getenv("EXP_SQL"), ";;") {
		q = strings.ReplaceAll(q, "S.", "cdp_stage.main.")
		t0 := time.Now()
		if err := wh.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
		t.Logf("%6.2fs %s", time.Since(t0).Seconds(), q[:min(100, len(q))])
	}
}
