package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/destinationtest"
	"github.com/cdp-dev/cdp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newDest makes a destination writing to table of the database at url, closed when t ends.
func newDest(t *testing.T, url, table string, extra map[string]any) *Dest {
	t.Helper()
	cfg := map[string]any{"url": url, "table": table}
	for k, v := range extra {
		cfg[k] = v
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// readback returns the rows of schema.table, by key, as destination rows: every column but the
// key and cdp_synced_at is a field, times in UTC.
func readback(t *testing.T, url, schema, table, key string) []destination.Row {
	t.Helper()
	conn := pgtest.Connect(t, url)
	ctx := context.Background()
	q := fmt.Sprintf(`SELECT * FROM %q.%q ORDER BY %q`, schema, table, key)
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []destination.Row
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		r := destination.Row{Action: destination.Add, Fields: map[string]any{}}
		for i, fd := range rows.FieldDescriptions() {
			v := vals[i]
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC()
			}
			switch fd.Name {
			case key:
				r.Key = fmt.Sprint(v)
			case SyncedAtColumn:
			default:
				r.Fields[fd.Name] = v
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func write(t *testing.T, d *Dest, mode string, rows ...destination.Row) destination.Result {
	t.Helper()
	res, err := d.Write(context.Background(), destination.Batch{Sync: "s", ID: fmt.Sprint(time.Now().UnixNano()), Mode: mode, Rows: rows})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if len(res.Rows) != len(rows) {
		t.Fatalf("Write returned %d results for %d rows", len(res.Rows), len(rows))
	}
	return res
}

func requireOK(t *testing.T, res destination.Result) {
	t.Helper()
	for i, r := range res.Rows {
		if r.Outcome != destination.OK {
			t.Errorf("row %d: %s: %s", i, r.Outcome, r.Reason)
		}
	}
}

func add(key string, fields map[string]any) destination.Row {
	return destination.Row{Key: key, Action: destination.Add, Fields: fields}
}

func change(key string, fields map[string]any) destination.Row {
	return destination.Row{Key: key, Action: destination.Change, Fields: fields}
}

func remove(key string) destination.Row {
	return destination.Row{Key: key, Action: destination.Remove, Fields: map[string]any{"email": "old@example.com"}}
}

func lines(t *testing.T, url, sql string) []string {
	t.Helper()
	return pgtest.Lines(t, url, sql)
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestConformance(t *testing.T) {
	for _, mode := range Spec.Modes {
		t.Run(mode, func(t *testing.T) {
			url := pgtest.NewDB(t)
			d := newDest(t, url, "conformance", map[string]any{"batch_size": 2000, "concurrency": 2})
			destinationtest.Run(t, d, destinationtest.Options{
				Mode: mode,
				Readback: func(t *testing.T) []destination.Row {
					return readback(t, url, "public", "conformance", DefaultKeyColumn)
				},
			})
		})
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string // in the error; "" for none
	}{
		{map[string]any{"url": "postgres://u:s3cr3tpw@localhost:5432/db", "table": "t"}, ""},
		{map[string]any{"url": "postgresql://u@h/db?sslmode=require", "table": "t", "schema": "s", "key_column": "id", "batch_size": "100", "concurrency": 8, "timeout": "1m"}, ""},
		{map[string]any{"table": "t"}, `field "url": required; set url: ${CDP_PG_URL}`},
		{map[string]any{"url": "postgres://u@h/db"}, `field "table": required`},
		{map[string]any{"url": "mysql://u:s3cr3tpw@h/db", "table": "t"}, "must be a URL starting with postgres://"},
		{map[string]any{"url": "postgres://u:s3cr@3tpw@h:notaport/db", "table": "t"}, "percent-encode special characters"},
		{map[string]any{"url": "${CDP_PG_URL}", "table": "t"}, "environment variable CDP_PG_URL is not set"},
		{map[string]any{"url": "postgres://u@h/db", "table": strings.Repeat("x", 64)}, "at most 63 bytes"},
		{map[string]any{"url": "postgres://u@h/db", "table": "t", "key_column": SyncedAtColumn}, "name another column"},
		{map[string]any{"url": "postgres://u@h/db", "table": "t", "batch_size": 100000}, `field "batch_size": must be a whole number from 1 to 50000`},
		{map[string]any{"url": "postgres://u@h/db", "tabel": "t"}, `did you mean "table"?`},
		{map[string]any{"url": "postgres://u@h/db", "table": "crm.contacts"}, `give the table's name alone ("contacts") and its schema in schema`},
	} {
		_, err := New(tc.cfg)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want it to say %q", tc.cfg, err, tc.want)
		case err != nil && (strings.Contains(err.Error(), "s3cr3tpw") || strings.Contains(err.Error(), "s3cr@3tpw")):
			t.Errorf("%v: the error shows the password: %v", tc.cfg, err)
		}
	}
	d, err := New(map[string]any{"url": "postgres://u@h/db", "table": "t", "batch_size": 100, "concurrency": 3})
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Spec(); s.BatchSize != 100 || s.Concurrency != 3 || s.Timeout != DefaultTimeout {
		t.Errorf("Spec() = %+v", s)
	}
	if _, ok := destination.Default.Spec("postgres"); !ok {
		t.Error("postgres is not registered in destination.Default")
	}
}

func TestCreatesTable(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, "CREATE SCHEMA crm")
	d := newDest(t, url, "Contacts", map[string]any{"schema": "crm", "key_column": "profile_id"})
	res := write(t, d, "mirror",
		add("p1", map[string]any{"email": "a@example.com", "orders": int64(3), "ltv": 1.5, "vip": true,
			"seen_at": time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "tags": []any{"a", "b"}, "Nick Name": nil, "mixed": int64(1)}),
		add("p2", map[string]any{"email": "b@example.com", "orders": nil, "ltv": nil, "vip": nil, "seen_at": nil, "tags": map[string]any{"x": 1.0},
			"Nick Name": nil, "mixed": 2.5}),
	)
	requireOK(t, res)
	equal(t, "columns", lines(t, url, `SELECT column_name, data_type, is_nullable FROM information_schema.columns
		WHERE table_schema = 'crm' AND table_name = 'Contacts' ORDER BY ordinal_position`), []string{
		"profile_id|text|NO", "Nick Name|text|YES", "email|text|YES", "ltv|double precision|YES", "mixed|double precision|YES",
		"orders|bigint|YES", "seen_at|timestamp with time zone|YES", "tags|jsonb|YES", "vip|boolean|YES", "cdp_synced_at|timestamp with time zone|NO",
	})
	equal(t, "primary key", lines(t, url, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = 'crm."Contacts"'::regclass AND i.indisprimary`), []string{"profile_id"})
	equal(t, "rows", lines(t, url, `SELECT profile_id, email, orders, ltv, vip, seen_at, tags::text, "Nick Name", mixed, cdp_synced_at > now() - interval '1 minute' FROM crm."Contacts" ORDER BY 1`), []string{
		`p1|a@example.com|3|1.5|true|2024-01-02T03:04:05Z|["a", "b"]|NULL|1|true`,
		`p2|b@example.com|NULL|NULL|NULL|NULL|{"x": 1}|NULL|2.5|true`,
	})
}

func TestMigratesTable(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "people", nil)
	requireOK(t, write(t, d, "mirror", add("a", map[string]any{"email": "a@example.com"}), add("b", map[string]any{"email": "b@example.com"})))
	// A new mapped field: a new column; the rows already there keep theirs and get NULL.
	requireOK(t, write(t, d, "mirror", change("b", map[string]any{"email": "b2@example.com", "score": int64(7)}), add("c", map[string]any{"email": "c@example.com", "score": int64(9)})))
	equal(t, "rows", lines(t, url, "SELECT cdp_key, email, score FROM people ORDER BY 1"), []string{"a|a@example.com|NULL", "b|b2@example.com|7", "c|c@example.com|9"})
	equal(t, "type of score", lines(t, url, "SELECT data_type FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'score'"), []string{"bigint"})

	// A second destination (another run) finds the table as it is, and a column someone added
	// meanwhile is used, not added again.
	pgtest.Exec(t, url, "ALTER TABLE people ADD COLUMN city varchar(20)")
	d2 := newDest(t, url, "people", nil)
	requireOK(t, write(t, d2, "mirror", change("a", map[string]any{"email": "a@example.com", "score": int64(1), "city": "Paris"})))
	equal(t, "rows", lines(t, url, "SELECT cdp_key, email, score, city FROM people ORDER BY 1"), []string{"a|a@example.com|1|Paris", "b|b2@example.com|7|NULL", "c|c@example.com|9|NULL"})

	// A column dropped behind a destination's back: the Write is retryable, and the next one
	// adds it again.
	pgtest.Exec(t, url, "ALTER TABLE people DROP COLUMN score")
	_, err := d2.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: []destination.Row{change("a", map[string]any{"email": "a@example.com", "score": int64(2)})}})
	var re *destination.RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("Write after a column was dropped: %v, want a RetryableError", err)
	}
	requireOK(t, write(t, d2, "mirror", change("a", map[string]any{"email": "a@example.com", "score": int64(2)})))
	equal(t, "after the column came back", lines(t, url, "SELECT cdp_key, score FROM people ORDER BY 1"), []string{"a|2", "b|NULL", "c|NULL"})
}

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want []string
	}{
		// a: kept, b: changed, c: removed, d: added, e: added, then added again with new values.
		{"mirror", []string{"a|1", "b|20", "d|4", "e|50"}},
		{"audience", []string{"a|1", "b|20", "d|4", "e|50"}},
		// The engine sends removes in upsert and insert modes only for withdrawn consent, which
		// must be honoured whatever the mode.
		{"upsert", []string{"a|1", "b|20", "d|4", "e|50"}},
		// Insert mode: an add whose key is already there leaves the row alone and is acknowledged.
		{"insert", []string{"a|1", "b|20", "d|4", "e|5"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			url := pgtest.NewDB(t)
			d := newDest(t, url, "t", nil)
			n := func(i int64) map[string]any { return map[string]any{"n": i} }
			requireOK(t, write(t, d, tc.mode, add("a", n(1)), add("b", n(2)), add("c", n(3))))
			requireOK(t, write(t, d, tc.mode, change("b", n(20)), remove("c"), add("d", n(4)), add("e", n(5))))
			requireOK(t, write(t, d, tc.mode, add("e", n(50))))
			equal(t, "rows", lines(t, url, "SELECT cdp_key, n FROM t ORDER BY 1"), tc.want)
		})
	}
}

// TestUpsertNeverDeletes runs the engine's upsert mode: rows that leave the model are not sent,
// so the table keeps them. (internal/sync's TestPostgresMirror runs the real engine.)
func TestUpsertNeverDeletes(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", nil)
	requireOK(t, write(t, d, "upsert", add("a", map[string]any{"n": int64(1)}), add("b", map[string]any{"n": int64(2)})))
	requireOK(t, write(t, d, "upsert", change("a", map[string]any{"n": int64(10)})))
	equal(t, "rows", lines(t, url, "SELECT cdp_key, n FROM t ORDER BY 1"), []string{"a|10", "b|2"})
}

func TestDuplicateKeyInBatch(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", nil)
	res := write(t, d, "mirror", add("a", map[string]any{"n": int64(1)}), add("b", map[string]any{"n": int64(2)}), change("a", map[string]any{"n": int64(3)}))
	requireOK(t, res)
	equal(t, "rows", lines(t, url, "SELECT cdp_key, n FROM t ORDER BY 1"), []string{"a|3", "b|2"})
}

func TestTypeConflicts(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, `CREATE TABLE t (cdp_key text PRIMARY KEY, label text, n bigint, small smallint, price numeric(10,2),
		flag boolean, day date, doc jsonb, id uuid, cdp_synced_at timestamptz)`)
	d := newDest(t, url, "t", nil)
	rows := []destination.Row{
		// Converted: numbers and booleans into text, whole floats into integers, text into
		// numbers, booleans and dates, anything into jsonb.
		add("ok", map[string]any{"label": int64(42), "n": 7.0, "small": "12", "price": int64(3), "flag": "true", "day": "2024-05-06", "doc": "plain", "id": "5f0c6b7e-0000-4000-8000-000000000001"}),
		add("ok2", map[string]any{"label": true, "n": "8", "small": nil, "price": 2.5, "flag": false, "day": time.Date(2024, 5, 7, 23, 0, 0, 0, time.UTC), "doc": map[string]any{"a": []any{int64(1)}}, "id": nil}),
		// Rejected: each names the field, the column's type and the fix.
		add("text-in-bigint", map[string]any{"n": "many"}),
		add("fraction-in-bigint", map[string]any{"n": 1.5}),
		add("out-of-range", map[string]any{"small": int64(40000)}),
		add("bool-in-date", map[string]any{"day": true}),
		add("nul", map[string]any{"label": "a\x00b"}),
		add("bad-utf8", map[string]any{"label": "a\xffb"}),
	}
	res := write(t, d, "mirror", rows...)
	want := map[string]string{
		"text-in-bigint":     `field "n": cannot store the text "many" in column "n" of type bigint; map a value of that type, or make the column text, which holds any value: ALTER TABLE "public"."t" ALTER COLUMN "n" TYPE text`,
		"fraction-in-bigint": `field "n": cannot store the number 1.5 in column "n" of type bigint`,
		"out-of-range":       `field "small": 40000 is out of the range of column "small" of type smallint; widen it: ALTER TABLE "public"."t" ALTER COLUMN "small" TYPE bigint`,
		"bool-in-date":       `field "day": cannot store the boolean true in column "day" of type date`,
		"nul":                `field "label": holds a NUL character`,
		"bad-utf8":           `field "label": is not valid UTF-8`,
	}
	for i, r := range res.Rows {
		key := rows[i].Key
		w, bad := want[key]
		switch {
		case !bad && r.Outcome != destination.OK:
			t.Errorf("%s: %s: %s", key, r.Outcome, r.Reason)
		case bad && (r.Outcome != destination.Rejected || !strings.HasPrefix(r.Reason, w)):
			t.Errorf("%s: %s: %q\nwant rejected: %q", key, r.Outcome, r.Reason, w)
		}
	}
	equal(t, "rows", lines(t, url, "SELECT cdp_key, label, n, small, price::text, flag, day, doc::text, id::text FROM t ORDER BY 1"), []string{
		`ok|42|7|12|3.00|true|2024-05-06T00:00:00Z|"plain"|5f0c6b7e-0000-4000-8000-000000000001`,
		`ok2|true|8|NULL|2.50|false|2024-05-07T00:00:00Z|{"a": [1]}|NULL`,
	})
}

// TestOneTransactionPerBatch: a value PostgreSQL refuses rolls back the whole batch; a batch of
// one row rejects it with PostgreSQL's message, a larger one fails so the engine splits it.
func TestOneTransactionPerBatch(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, `CREATE TABLE t (cdp_key text PRIMARY KEY, code varchar(5), n bigint CHECK (n >= 0), cdp_synced_at timestamptz)`)
	pgtest.Exec(t, url, `INSERT INTO t VALUES ('gone', 'x', 1, now())`)
	d := newDest(t, url, "t", nil)
	rows := []destination.Row{
		add("a", map[string]any{"code": "ab", "n": int64(1)}),
		add("b", map[string]any{"code": "much too long", "n": int64(2)}),
		add("c", map[string]any{"code": "cd", "n": int64(3)}),
		remove("gone"),
	}
	_, err := d.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: rows})
	var re *destination.RetryableError
	if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), "value too long for type character varying(5)") || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Write of a batch with a bad row: %v; want a non-retryable error with PostgreSQL's reason", err)
	}
	equal(t, "nothing of the batch applied", lines(t, url, "SELECT cdp_key FROM t ORDER BY 1"), []string{"gone"})

	// What the engine then does: halves until the bad row is alone.
	var outcomes []string
	var split func(rows []destination.Row)
	split = func(rows []destination.Row) {
		res, err := d.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: rows})
		if err != nil {
			if len(rows) == 1 {
				t.Fatalf("a batch of one row failed instead of rejecting it: %v", err)
			}
			split(rows[:len(rows)/2])
			split(rows[len(rows)/2:])
			return
		}
		for i, r := range res.Rows {
			outcomes = append(outcomes, rows[i].Key+" "+r.Outcome.String()+" "+r.Reason)
		}
	}
	split(rows)
	equal(t, "outcomes", outcomes, []string{
		"a ok ",
		"b rejected value too long for type character varying(5) [SQLSTATE 22001]",
		"c ok ",
		"gone ok ",
	})
	equal(t, "rows", lines(t, url, "SELECT cdp_key, code, n FROM t ORDER BY 1"), []string{"a|ab|1", "c|cd|3"})

	res := write(t, d, "mirror", change("a", map[string]any{"code": "ab", "n": int64(-1)}))
	if r := res.Rows[0]; r.Outcome != destination.Rejected || !strings.Contains(r.Reason, `violates check constraint "t_n_check"`) || !strings.Contains(r.Reason, "23514") {
		t.Errorf("a row breaking a CHECK: %s %q", r.Outcome, r.Reason)
	}
}

func TestRetryableErrors(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", map[string]any{"concurrency": 1})
	requireOK(t, write(t, d, "mirror", add("a", map[string]any{"n": int64(1)})))
	// The destination's connection is terminated by the server (an administrator, a failover).
	pgtest.Exec(t, url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdp' AND pid <> pg_backend_pid()")
	_, err := d.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: []destination.Row{add("b", map[string]any{"n": int64(2)})}})
	var re *destination.RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("Write on a terminated connection: %v, want a RetryableError", err)
	}
	// The pool replaces the connection: the resent batch goes through.
	requireOK(t, write(t, d, "mirror", add("b", map[string]any{"n": int64(2)})))
	equal(t, "rows", lines(t, url, "SELECT cdp_key, n FROM t ORDER BY 1"), []string{"a|1", "b|2"})

	// Nothing listens at the address: retryable, and the error names host:port, not the password.
	down := newDest(t, "postgres://cdp:hunter2@127.0.0.1:1/db?connect_timeout=5", "t", nil)
	_, err = down.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: []destination.Row{add("a", nil)}})
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Write to a closed port: %v; want a RetryableError naming 127.0.0.1:1 without the password", err)
	}

	for code, retry := range map[string]bool{"40001": true, "40P01": true, "53300": true, "57P03": true, "08006": true, "22003": false, "42501": false, "23505": false} {
		if got := retryableCode(code); got != retry {
			t.Errorf("retryableCode(%s) = %v", code, got)
		}
	}
}

// TestDeadlockIsRetryable provokes a real deadlock between the destination and
// another session.
func TestDeadlockIsRetryable(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", nil)
	requireOK(t, write(t, d, "mirror", add("a", map[string]any{"n": int64(1)}), add("b", map[string]any{"n": int64(2)})))
	other := pgtest.Connect(t, url)
	ctx := context.Background()
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// The other session holds b and will want a; the destination's batch takes a, then wants b.
	if _, err := tx.Exec(ctx, "UPDATE t SET n = 200 WHERE cdp_key = 'b'"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.Write(ctx, destination.Batch{Mode: "mirror", Rows: []destination.Row{change("a", map[string]any{"n": int64(10)}), change("b", map[string]any{"n": int64(20)})}})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond) // the destination now holds a and waits for b
	_, otherErr := tx.Exec(ctx, "UPDATE t SET n = 100 WHERE cdp_key = 'a'")
	err = <-done
	// The destination waited first, so its backend's deadlock check runs first and picks it.
	if err == nil {
		t.Skipf("the other session was chosen as the deadlock's victim (%v)", otherErr)
	}
	var re *destination.RetryableError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "40P01") {
		t.Errorf("the destination's side of a deadlock: %v, want a RetryableError", err)
	}
}

func TestCancelledContext(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", nil)
	requireOK(t, write(t, d, "mirror", add("a", map[string]any{"n": int64(1)})))
	// A Write blocked on a lock another session holds ends as soon as its context is cancelled.
	other := pgtest.Connect(t, url)
	ctx := context.Background()
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := d.Write(wctx, destination.Batch{Mode: "mirror", Rows: []destination.Row{change("a", map[string]any{"n": int64(2)})}})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		var re *destination.RetryableError
		if !errors.Is(err, context.Canceled) || errors.As(err, &re) {
			t.Errorf("cancelled Write: %v; want context.Canceled, not retryable", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("cancelled Write took %s to return", time.Since(start))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled Write still running after 10s")
	}
	tx.Rollback(ctx)
	equal(t, "rows", lines(t, url, "SELECT cdp_key, n FROM t"), []string{"a|1"})
}

func TestConfigurationErrors(t *testing.T) {
	url := pgtest.NewDB(t)
	pgtest.Exec(t, url, "CREATE ROLE reader LOGIN")
	pgtest.Exec(t, url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	pgtest.Exec(t, url, "CREATE TABLE nokey (cdp_key text, n bigint, cdp_synced_at timestamptz)")
	pgtest.Exec(t, url, "CREATE TABLE other (id text PRIMARY KEY, cdp_synced_at timestamptz)")
	readerURL := strings.Replace(url, "postgres://postgres@", "postgres://reader@", 1)
	for _, tc := range []struct {
		name, url, table string
		extra            map[string]any
		fields           map[string]any
		want             string
	}{
		{"cannot create", readerURL, "t", nil, nil, `user "reader" may not create tables in schema "public": have its owner run GRANT CREATE ON SCHEMA "public" TO "reader"`},
		{"cannot write", readerURL, "other", map[string]any{"key_column": "id"}, nil, `GRANT SELECT, INSERT, UPDATE, DELETE ON "public"."other" TO "reader"`},
		{"no unique key", url, "nokey", nil, map[string]any{"n": int64(1)}, `has no primary key or unique index, which cdp needs to update rows by key: ALTER TABLE "public"."nokey" ADD PRIMARY KEY ("cdp_key")`},
		{"no key column", url, "other", nil, nil, `table "public"."other" has no column "cdp_key"`},
		{"no schema", url, "t", map[string]any{"schema": "nope"}, nil, `create the schema (CREATE SCHEMA "nope")`},
		{"no database", strings.Replace(url, "/t_", "/missing_", 1), "t", nil, nil, "create the database"},
		{"field named like the key", url, "t", nil, map[string]any{"cdp_key": "x"}, "has the name of key_column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDest(t, tc.url, tc.table, tc.extra)
			_, err := d.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: []destination.Row{add("a", tc.fields)}})
			var re *destination.RetryableError
			if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write: %v\nwant a non-retryable error saying %q", err, tc.want)
			}
		})
	}
}

func TestConcurrentWritesMigrateOnce(t *testing.T) {
	url := pgtest.NewDB(t)
	d := newDest(t, url, "t", map[string]any{"concurrency": 4})
	errs := make(chan error, 8)
	for w := range 8 {
		go func() {
			var rows []destination.Row
			for i := range 50 {
				rows = append(rows, add(fmt.Sprintf("w%d-%d", w, i), map[string]any{"n": int64(i), fmt.Sprintf("f%d", w%3): "x"}))
			}
			res, err := d.Write(context.Background(), destination.Batch{Mode: "mirror", Rows: rows})
			if err == nil {
				for _, r := range res.Rows {
					if r.Outcome != destination.OK {
						err = errors.New(r.Reason)
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	equal(t, "rows and columns", lines(t, url, "SELECT count(*), count(f0), count(f1), count(f2) FROM t"), []string{"400|150|150|100"})
}
