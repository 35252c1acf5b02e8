package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/syncdef"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// planFixture syncs 10 customers, then changes the model: 2 spend changes, c0003 leaves,
// c0004 withdraws consent, c0011..c0017 join (7 adds, more than the samples), a NULL key and a
// duplicated key appear, and c0005 changes a column that is not mapped.
func planFixture(t *testing.T) (*Plan, *Plan) {
	w := openWH(t)
	customers(t, w, 10)
	d := def("vip_to_webhook", syncdef.Mirror)
	d.Destination.Type = "webhook"
	d.Consent = "marketing"
	share := 0.1
	d.Guards.MaxRemoveShare = &share
	runSync(t, w, d, newFake(destination.Spec{}), Options{})
	clean := plan(t, w, d)

	exec(t, w, `UPDATE main.audience SET total_spend = total_spend * 10 WHERE profile_id IN ('c0001', 'c0002')`)
	exec(t, w, `UPDATE main.audience SET email = 'new@example.com' WHERE profile_id = 'c0002'`)
	exec(t, w, `UPDATE main.audience SET plan_id = 7 WHERE profile_id = 'c0005'`)
	exec(t, w, `DELETE FROM main.audience WHERE profile_id = 'c0003'`)
	exec(t, w, `UPDATE main.audience SET consent_marketing = FALSE WHERE profile_id = 'c0004'`)
	exec(t, w, `INSERT INTO main.audience SELECT 'c' || lpad(CAST(i AS VARCHAR), 4, '0'), 'user' || i || '@example.com', i, 0, TRUE FROM range(11, 18) t(i)`)
	exec(t, w, `INSERT INTO main.audience VALUES (NULL, 'ghost@example.com', 1, 0, TRUE), ('c0020', 'a@example.com', 1, 0, TRUE), ('c0020', 'b@example.com', 2, 0, TRUE), ('c0021', 'nc@example.com', 1, 0, FALSE)`)
	return clean, plan(t, w, d)
}

func TestPlanGolden(t *testing.T) {
	clean, p := planFixture(t)
	var buf bytes.Buffer
	FormatPlan(&buf, p)
	buf.WriteString("---\n")
	FormatPlan(&buf, clean)
	golden(t, "plan.txt", buf.Bytes())

	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", append(js, '\n'))

	if p.Changes != (Counts{Add: 7, Change: 2, Remove: 2}) || !p.HasChanges() || clean.HasChanges() {
		t.Errorf("changes %+v, clean %+v", p.Changes, clean.Changes)
	}
}

func TestPlanChangesNothing(t *testing.T) {
	w := openWH(t)
	customers(t, w, 3)
	d := def("readonly", syncdef.Mirror)
	for range 2 {
		if _, err := NewPlan(context.Background(), w, d, audience, PlanOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_snapshot_readonly`); n[0] != "0" {
		t.Errorf("plan wrote the snapshot")
	}
	if n := queryStrings(t, w, `SELECT count(*) FROM _cdp.sync_runs`); n[0] != "0" {
		t.Errorf("plan recorded a run")
	}
}

// DuckDB's advice for running out of memory is a SET the user cannot make in a sync; the error
// says where the limit is set instead.
func TestOutOfMemorySaysWhereToRaiseTheLimit(t *testing.T) {
	def := &syncdef.Def{Name: "vips"}
	err := wrapSync(def, errors.New("read planned rows: Out of Memory Error: failed to allocate data of size 2.0 MiB (94.0 MiB/95.3 MiB used)"))
	if !strings.Contains(err.Error(), `sync "vips": read planned rows: Out of Memory Error`) || !strings.Contains(err.Error(), "memory_limit: 1GB on the target in cdp.yaml") {
		t.Errorf("error = %v", err)
	}
	if err := wrapSync(def, errors.New("boom")); err.Error() != `sync "vips": boom` {
		t.Errorf("other errors = %v", err)
	}
}
