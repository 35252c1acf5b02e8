package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

func TestZZScratch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w, err := OpenDuckDB(ctx, warehouse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	defer w.Close()
	bg := context.Background()
	p := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(p, []byte("id,name\n1,bad\"value\n2,ok\n3,\"fine\"\n4,x\n"), 0o644)
	res, err := w.Load(bg, warehouse.LoadRequest{Path: p, Format: warehouse.FormatCSV, Name: "c"})
	fmt.Println(res, err)
	r, err := w.Query(bg, "SELECT * FROM "+res.Table+" ORDER BY line")
	if err != nil { t.Fatal(err) }
	for r.Next() {
		v, _ := r.Values()
		fmt.Printf("%#v\n", v)
	}
	r.Close()
	// force several connections
	var rs []warehouse.Rows
	for i := 0; i < 4; i++ {
		r, err := w.Query(bg, "SELECT current_setting('TimeZone') FROM range(3)")
		fmt.Println("conn", i, err)
		if err == nil { rs = append(rs, r); r.Next() }
	}
	for _, r := range rs { r.Close() }
}
