package sync

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/destination/postgres"
	"github.com/cdp-dev/cdp/internal/pgtest"
	"github.com/cdp-dev/cdp/internal/syncdef"
)

// TestMain stops the PostgreSQL server TestPostgresMirror starts; other tests do not start it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestPostgresMirror runs a mirror sync from DuckDB into a real PostgreSQL table twice (adds,
// then a change, a remove, an add and a row PostgreSQL refuses) and checks the table and the
// run's outcome, including that the refused row is isolated and the rest of its batch applied.
func TestPostgresMirror(t *testing.T) {
	url := pgtest.NewDB(t)
	w := openWH(t)
	customers(t, w, 5)
	d := def("pg_mirror", syncdef.Mirror)
	d.Destination = syncdef.Destination{Type: "postgres", Config: map[string]any{
		"url": "${CDP_TEST_PG_URL}", "table": "vip", "key_column": "profile_id", "concurrency": 2,
	}}
	cfg, err := d.Destination.Expand(func(name string) (string, bool) { return url, name == "CDP_TEST_PG_URL" })
	if err != nil {
		t.Fatal(err)
	}
	dest, err := postgres.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	table := func() []string {
		return pgtest.Lines(t, url, "SELECT profile_id, email, source, spend FROM vip ORDER BY 1")
	}

	res := runSync(t, w, d, dest, Options{})
	if res.Status != StatusOK || res.Added != 5 {
		t.Fatalf("first run: %+v", res.SyncRun)
	}
	want := []string{
		"c0001|user1@example.com|cdp|1", "c0002|user2@example.com|cdp|2", "c0003|user3@example.com|cdp|3",
		"c0004|user4@example.com|cdp|4", "c0005|user5@example.com|cdp|5",
	}
	if got := table(); !slices.Equal(got, want) {
		t.Fatalf("after the first run the table holds\n%q\nwant\n%q", got, want)
	}

	// The table's owner adds a rule the model breaks for one row: that row is rejected with
	// PostgreSQL's reason, the others of its batch are applied.
	pgtest.Exec(t, url, "ALTER TABLE vip ADD CONSTRAINT spend_not_negative CHECK (spend >= 0)")
	exec(t, w, `UPDATE main.audience SET total_spend = 20 WHERE profile_id = 'c0002'`)
	exec(t, w, `UPDATE main.audience SET total_spend = -1 WHERE profile_id = 'c0004'`)
	exec(t, w, `DELETE FROM main.audience WHERE profile_id = 'c0003'`)
	exec(t, w, `INSERT INTO main.audience VALUES ('c0006', 'six@example.com', 6, 0, TRUE)`)
	res = runSync(t, w, d, dest, Options{})
	if res.Status != StatusPartial || res.Added != 1 || res.Changed != 1 || res.Removed != 1 || res.Rejected != 1 {
		t.Errorf("second run: %+v", res.SyncRun)
	}
	if len(res.Rejections) != 1 || res.Rejections[0].Key != "c0004" || !strings.Contains(res.Rejections[0].Reason, `violates check constraint "spend_not_negative"`) {
		t.Errorf("rejections: %+v", res.Rejections)
	}
	want = []string{
		"c0001|user1@example.com|cdp|1", "c0002|user2@example.com|cdp|20",
		"c0004|user4@example.com|cdp|4", "c0005|user5@example.com|cdp|5", "c0006|six@example.com|cdp|6",
	}
	if got := table(); !slices.Equal(got, want) {
		t.Errorf("after the second run the table holds\n%q\nwant\n%q", got, want)
	}

	// Once the model is fixed, the rejected row goes through on the next run.
	exec(t, w, `UPDATE main.audience SET total_spend = 40 WHERE profile_id = 'c0004'`)
	res = runSync(t, w, d, dest, Options{})
	if res.Status != StatusOK || res.Changed != 1 {
		t.Errorf("third run: %+v", res.SyncRun)
	}
	if got := pgtest.Lines(t, url, "SELECT spend FROM vip WHERE profile_id = 'c0004'"); !slices.Equal(got, []string{"40"}) {
		t.Errorf("c0004 after the model was fixed: %q", got)
	}
	if p := plan(t, w, d); p.HasChanges() {
		t.Errorf("plan after the third run has changes: %+v", p.Changes)
	}
}
