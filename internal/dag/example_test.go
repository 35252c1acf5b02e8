package dag_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cdp-dev/cdp/internal/dag"
)

func Example() {
	g := dag.New()
	g.AddEdge("stg_orders", "orders")
	g.AddEdge("stg_users", "users")
	g.AddEdge("orders", "vip_audience")
	g.AddEdge("users", "vip_audience")
	g.AddEdge("orders", "test_orders_unique")

	tags := map[string][]string{"nightly": {"orders", "users"}}
	resolve := func(method, value string) ([]string, error) {
		switch method {
		case "":
			if g.Has(value) {
				return []string{value}, nil
			}
			return nil, nil
		case "tag":
			return tags[value], nil
		}
		return nil, fmt.Errorf("unknown method %q", method)
	}
	order, err := g.Select([]string{"tag:nightly+"}, nil, resolve)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(order)

	run := func(ctx context.Context, id string) error {
		switch id {
		case "test_orders_unique":
			return dag.SoftFail(errors.New("2 duplicate rows (severity warn)"))
		case "users":
			return errors.New("column email not found")
		}
		return nil
	}
	dag.Walk(context.Background(), g, order, 4, run, func(r dag.Result) {
		switch r.Status {
		case dag.Skipped:
			fmt.Printf("%s: skipped (%s failed)\n", r.ID, r.SkippedBecause)
		case dag.Failed:
			fmt.Printf("%s: failed: %v\n", r.ID, r.Err)
		}
	})
	// Unordered output:
	// [orders test_orders_unique users vip_audience]
	// test_orders_unique: failed: 2 duplicate rows (severity warn)
	// users: failed: column email not found
	// vip_audience: skipped (users failed)
}
