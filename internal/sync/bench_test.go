package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/state"
	"github.com/cdp-dev/cdp/internal/syncdef"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Benchmarks (docs figures come from these):
//
//	go test -run '^$' -bench 'BenchmarkPlan|BenchmarkApply' -benchtime 1x ./internal/sync/
//
// CDP_BENCH_ROWS sets the model size (default 1,000,000).

func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CDP_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchModel creates main.audience with n profiles of six mapped columns.
func benchModel(b testing.TB, w warehouse.Warehouse, n int) *syncdef.Def {
	exec(b, w, fmt.Sprintf(`CREATE OR REPLACE TABLE main.audience AS
		SELECT 'p' || lpad(CAST(i AS VARCHAR), 8, '0') AS profile_id, 'user' || i || '@example.com' AS email,
			(i %% 1000) * 1.25 AS total_spend, i %% 17 AS orders, CASE WHEN i %% 3 = 0 THEN 'pro' ELSE 'free' END AS plan,
			TIMESTAMPTZ '2024-01-01' + INTERVAL (i) SECOND AS last_order_at, i %% 50 <> 0 AS consent_marketing
		FROM range(%d) t(i)`, n))
	return &syncdef.Def{
		Name: "bench", Model: "audience", PrimaryKey: "profile_id", Mode: syncdef.Mirror, Consent: "marketing",
		Mapping: []syncdef.Field{
			{Name: "email", Column: "email"}, {Name: "last_order_at", Column: "last_order_at"}, {Name: "orders", Column: "orders"},
			{Name: "plan", Column: "plan"}, {Name: "source", Const: "cdp"}, {Name: "spend", Column: "total_spend"},
		},
		Destination: syncdef.Destination{Type: "fake"},
	}
}

// fillSnapshot makes the snapshot hold exactly what the model returns now, as if it was synced.
func fillSnapshot(b testing.TB, w warehouse.Warehouse, d *syncdef.Def) {
	q, err := newQuery(context.Background(), w, d, audience)
	if err != nil {
		b.Fatal(err)
	}
	exec(b, w, "DELETE FROM "+q.snapshot())
	payload := q.payload("src")
	exec(b, w, "INSERT INTO "+q.snapshot()+" SELECT cdp_key, "+q.d.MD5Hex(payload)+", "+payload+", current_timestamp FROM ("+q.srcSelect()+") AS src WHERE cdp_consent")
}

// BenchmarkPlan plans a 1M-row model against a 1M-row snapshot with 5% of rows changed.
func BenchmarkPlan(b *testing.B) {
	n := benchRows()
	w := openWH(b)
	d := benchModel(b, w, n)
	fillSnapshot(b, w, d)
	exec(b, w, `UPDATE main.audience SET total_spend = total_spend + 1 WHERE hash(profile_id) % 20 = 0`)
	b.ResetTimer()
	var p *Plan
	for b.Loop() {
		var err error
		p, err = NewPlan(context.Background(), w, d, audience, PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "model_rows/s")
	b.Logf("plan of %d rows: %+v", n, p.Changes)
}

// BenchmarkApply sends rows to a destination that answers at once (fake) or to a local HTTP
// server over JSON (httptest), and reports the rows per second of the whole run: plan, stream,
// send, commit. "initial" sends every row as an add to an empty snapshot; "changes" sends 5%
// changes against a full snapshot.
func BenchmarkApply(b *testing.B) {
	n := benchRows() / 5 // initial sync of 200k rows by default
	for _, tc := range []struct{ name, dest, kind string }{
		{"fake/initial", "fake", "initial"},
		{"fake/changes", "fake", "changes"},
		{"httptest/initial", "http", "initial"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := openWH(b)
			rows := n
			if tc.kind == "changes" {
				rows = benchRows()
			}
			d := benchModel(b, w, rows)
			var sent int64
			var secs float64
			for b.Loop() {
				b.StopTimer()
				if tc.kind == "initial" {
					exec(b, w, "DROP TABLE IF EXISTS "+w.Dialect().Relation(state.SyncSnapshot(d.Name)))
				} else {
					fillSnapshot(b, w, d)
					exec(b, w, `UPDATE main.audience SET total_spend = total_spend + 1 WHERE hash(profile_id) % 20 = 0`)
				}
				var dest destination.Destination
				spec := destination.Spec{BatchSize: 1000, Concurrency: 4}
				if tc.dest == "fake" {
					dest = &nullDest{spec: spec}
				} else {
					dest = newBenchHTTP(b, spec)
				}
				b.StartTimer()
				res, err := Run(context.Background(), w, d, audience, dest, Options{})
				if err != nil {
					b.Fatal(err)
				}
				sent += res.Added + res.Changed + res.Removed
				secs += res.Seconds
			}
			b.ReportMetric(float64(sent)/secs, "rows/s")
		})
	}
}

// nullDest acknowledges everything at once.
type nullDest struct{ spec destination.Spec }

var _ destination.Destination = (*nullDest)(nil)

func (d *nullDest) Spec() destination.Spec { return d.spec }
func (d *nullDest) Write(_ context.Context, b destination.Batch) (destination.Result, error) {
	return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
}

// benchHTTP POSTs batches as JSON to an httptest server that decodes them.
type benchHTTP struct {
	spec destination.Spec
	url  string
}

func newBenchHTTP(b *testing.B, spec destination.Spec) *benchHTTP {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			Rows []map[string]any `json:"rows"`
		}
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	return &benchHTTP{spec: spec, url: srv.URL}
}

func (d *benchHTTP) Spec() destination.Spec { return d.spec }
func (d *benchHTTP) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	type row struct {
		Key    string         `json:"key"`
		Action string         `json:"action"`
		Fields map[string]any `json:"fields"`
	}
	rows := make([]row, len(b.Rows))
	for i, r := range b.Rows {
		rows[i] = row{r.Key, string(r.Action), r.Fields}
	}
	body, err := json.Marshal(map[string]any{"id": b.ID, "rows": rows})
	if err != nil {
		return destination.Result{}, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return destination.Result{}, &destination.RetryableError{Err: err}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return destination.Result{}, fmt.Errorf("%s", resp.Status)
	}
	return destination.Result{Rows: make([]destination.RowResult, len(b.Rows))}, nil
}
