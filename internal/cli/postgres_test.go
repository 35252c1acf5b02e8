package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cdp-dev/cdp/internal/pgtest"
)

// TestMain stops the PostgreSQL server TestSyncToPostgres starts; other tests do not start it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSyncToPostgres runs `cdp sync` as a user would, into a real PostgreSQL server: the table is
// created on the first run, a later run applies changes and removes, the connection URL comes
// from the environment, and a server cdp cannot reach is named without the password.
func TestSyncToPostgres(t *testing.T) {
	url := pgtest.NewDB(t)
	dir := writeSyncProject(t, 20, "http://127.0.0.1:1/unused", "")
	if err := os.WriteFile(filepath.Join(dir, "syncs", "vips_pg.yml"), []byte(`syncs:
  - name: vips_pg
    model: vips
    primary_key: id
    mode: mirror
    mapping:
      email: email
      spend: spend
    destination:
      type: postgres
      url: ${VIPS_PG_URL}
      table: vips
      key_column: id
`), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VIPS_PG_URL", url)

	code, out, errOut := cdp(t, dir, "sync", "run", "vips_pg")
	if code != ExitOK || !strings.Contains(out, "vips_pg: 20 added, 0 changed, 0 removed, 0 rejected") {
		t.Fatalf("first run exited %d:\n%s%s", code, out, errOut)
	}
	if got := pgtest.Lines(t, url, "SELECT count(*), min(id), max(id) FROM vips"); !slices.Equal(got, []string{"20|v00001|v00020"}) {
		t.Errorf("table after the first run: %q", got)
	}

	sqlIn(t, dir, `UPDATE main.vips SET spend = 100 WHERE id = 'v00002'`)
	sqlIn(t, dir, `DELETE FROM main.vips WHERE id > 'v00015'`)
	code, out, errOut = cdp(t, dir, "--json", "sync", "run", "vips_pg")
	if code != ExitOK || !strings.Contains(out, `"changed": 1`) || !strings.Contains(out, `"removed": 5`) {
		t.Fatalf("second run exited %d:\n%s%s", code, out, errOut)
	}
	if got := pgtest.Lines(t, url, "SELECT count(*), max(id), sum(spend) FILTER (WHERE id = 'v00002') FROM vips"); !slices.Equal(got, []string{"15|v00015|100"}) {
		t.Errorf("table after the second run: %q", got)
	}
	if code, out, _ := cdp(t, dir, "sync", "plan", "vips_pg", "--detailed-exitcode"); code != ExitOK || !strings.Contains(out, "No changes") {
		t.Errorf("plan after the runs exited %d:\n%s", code, out)
	}

	t.Setenv("VIPS_PG_URL", "postgres://cdp:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
	sqlIn(t, dir, `UPDATE main.vips SET spend = 7 WHERE id = 'v00003'`)
	code, _, errOut = cdp(t, dir, "sync", "run", "vips_pg")
	if code != ExitFailure || !strings.Contains(errOut, "127.0.0.1:1") || strings.Contains(errOut, "hunter2") {
		t.Errorf("unreachable server: exited %d: %s", code, errOut)
	}
}
