package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/internal/conf"
)

// Defaults and limits of the configurable spec values.
const (
	DefaultBatchSize   = 5000
	MaxBatchSize       = 50000
	DefaultConcurrency = 4
	MaxConcurrency     = 32
	DefaultTimeout     = 5 * time.Minute
	DefaultKeyColumn   = "cdp_key"
	// SyncedAtColumn is the column that says when cdp last wrote a row.
	SyncedAtColumn = "cdp_synced_at"
	// maxIdentifier is PostgreSQL's NAMEDATALEN-1: longer names are truncated by the server,
	// which would make a column cdp asked for look missing forever.
	maxIdentifier = 63
)

// Spec is the postgres destination type's spec: its BatchSize is the most any postgres
// destination accepts; a configured destination's Spec reports its own.
var Spec = destination.Spec{
	Name: "postgres",
	Doc:  "Keeps a PostgreSQL table equal to the sync's rows: upserts and deletes by key, one transaction per batch, creating the table and adding columns as needed.",
	Fields: []destination.Field{
		{Name: "url", Required: true, Secret: true, Doc: "connection URL postgres://user:password@host:5432/database (with ?sslmode=... as the server needs)", Example: "${CDP_PG_URL}"},
		{Name: "schema", Doc: "schema of the table; it must exist", Default: "public", Example: "marketing"},
		{Name: "table", Required: true, Doc: "the table the rows go to; created on the first batch when missing", Example: "vip_customers"},
		{Name: "key_column", Doc: "the column that holds each row's key (the sync's primary key); it needs a primary key or unique index", Default: DefaultKeyColumn, Example: "profile_id"},
		{Name: "batch_size", Doc: "rows per transaction, 1 to 50000", Default: strconv.Itoa(DefaultBatchSize), Example: "10000"},
		{Name: "concurrency", Doc: "transactions (connections) at once, 1 to 32", Default: strconv.Itoa(DefaultConcurrency), Example: "2"},
		{Name: "timeout", Doc: "how long one batch's transaction may take", Default: "5m", Example: "10m"},
	},
	Modes:       []string{"mirror", "upsert", "insert", "audience"},
	BatchSize:   MaxBatchSize,
	Concurrency: DefaultConcurrency,
	Timeout:     DefaultTimeout,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a postgres destination.
type Config struct {
	URL         string
	Schema      string
	Table       string
	KeyColumn   string
	BatchSize   int
	Concurrency int
	Timeout     time.Duration

	pool *pgxpool.Config
}

// ParseConfig validates a postgres destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{
		URL:         strings.TrimSpace(r.String("url", "")),
		Schema:      strings.TrimSpace(r.String("schema", "public")),
		Table:       strings.TrimSpace(r.String("table", "")),
		KeyColumn:   strings.TrimSpace(r.String("key_column", DefaultKeyColumn)),
		BatchSize:   r.Int("batch_size", DefaultBatchSize, 1, MaxBatchSize),
		Concurrency: r.Int("concurrency", DefaultConcurrency, 1, MaxConcurrency),
		Timeout:     r.Duration("timeout", DefaultTimeout, time.Second, time.Hour),
	}
	if c.URL != "" {
		if !strings.HasPrefix(c.URL, "postgres://") && !strings.HasPrefix(c.URL, "postgresql://") {
			r.Failf("url", "must be a URL starting with postgres://, such as postgres://cdp:PASSWORD@db.example.com:5432/analytics?sslmode=require")
		} else if pc, err := pgxpool.ParseConfig(c.URL); err != nil {
			// The parser's message may quote the URL, password included: say what to check instead.
			r.Failf("url", "is not a valid postgres:// URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...); "+
				"percent-encode special characters in the user and password (@ as %%40, : as %%3A, / as %%2F, # as %%23)")
		} else {
			c.pool = pc
		}
	}
	for _, f := range []struct{ name, value string }{{"schema", c.Schema}, {"table", c.Table}, {"key_column", c.KeyColumn}} {
		if len(f.value) > maxIdentifier {
			r.Failf(f.name, "PostgreSQL names are at most %d bytes, %q has %d", maxIdentifier, f.value, len(f.value))
		}
		if strings.ContainsRune(f.value, 0) {
			r.Failf(f.name, "must not contain a NUL character")
		}
	}
	if strings.Contains(c.Table, ".") {
		r.Failf("table", "give the table's name alone (%q) and its schema in schema", c.Table[strings.LastIndex(c.Table, ".")+1:])
	}
	if c.KeyColumn == SyncedAtColumn {
		r.Failf("key_column", "%s is the column cdp writes the sync time to; name another column", SyncedAtColumn)
	}
	return c, r.Err()
}

// Dest is a postgres destination. It is safe for concurrent use.
type Dest struct {
	cfg Config

	mu   sync.Mutex
	pool *pgxpool.Pool

	// schemaMu serializes reading and changing the table's definition; tbl is replaced, never
	// changed, so a Write may keep using the one it got.
	schemaMu sync.Mutex
	tbl      *table
}

var (
	_ destination.Destination = (*Dest)(nil)
	_ destination.Closer      = (*Dest)(nil)
)

// New makes a postgres destination from its config. It does not connect: the first Write does.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Dest{cfg: c}, nil
}

// Spec returns the destination's spec with its configured limits.
func (d *Dest) Spec() destination.Spec {
	s := Spec
	s.BatchSize = d.cfg.BatchSize
	s.Concurrency = d.cfg.Concurrency
	s.Timeout = d.cfg.Timeout
	return s
}

// Close closes the destination's connections and forgets the table's definition, which the
// next run reads again (someone may have altered the table in between). A later Write
// reconnects.
func (d *Dest) Close(context.Context) error {
	d.mu.Lock()
	p := d.pool
	d.pool = nil
	d.mu.Unlock()
	if p != nil {
		p.Close()
	}
	d.schemaMu.Lock()
	d.tbl = nil
	d.schemaMu.Unlock()
	return nil
}

func (d *Dest) getPool(ctx context.Context) (*pgxpool.Pool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pool != nil {
		return d.pool, nil
	}
	pc := d.cfg.pool.Copy()
	pc.MaxConns = int32(d.cfg.Concurrency)
	pc.MinConns = 0
	// Timestamps without time zone get UTC wall times, whatever the server's default zone.
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = "cdp"
	}
	// Statement texts vary with each batch's columns and the staging table is new in every
	// transaction, so caching prepared statements would only fill the cache.
	pc.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	// The pool outlives this Write; with MinConns 0 the context is not used for anything else.
	p, err := pgxpool.NewWithConfig(context.WithoutCancel(ctx), pc)
	if err != nil {
		return nil, err
	}
	d.pool = p
	return p, nil
}

// where names the server for messages: host:port (or the socket), database and user, never
// the password.
func (d *Dest) where() string {
	cc := d.cfg.pool.ConnConfig
	addr := net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
	if strings.HasPrefix(cc.Host, "/") {
		addr = fmt.Sprintf("%s/.s.PGSQL.%d", cc.Host, cc.Port)
	}
	return fmt.Sprintf("%s (database %q, user %q)", addr, cc.Database, cc.User)
}

func (d *Dest) tableName() string { return pgx.Identifier{d.cfg.Schema, d.cfg.Table}.Sanitize() }

// Write applies the batch in one transaction.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("postgres: %w", err)
	}
	res := destination.OKResult(len(b.Rows))
	if len(b.Rows) == 0 {
		return res, nil
	}
	// The engine never sends a key twice in a batch; if a caller does, its last row is the one
	// that counts and the earlier ones share its outcome.
	last := make(map[string]int, len(b.Rows))
	for i, r := range b.Rows {
		last[r.Key] = i
	}
	live := func(i int) bool { return last[b.Rows[i].Key] == i }

	fields := map[string]string{} // field -> type a new column of it would get
	for i, r := range b.Rows {
		if !live(i) || r.Action == destination.Remove {
			continue
		}
		for name, v := range r.Fields {
			fields[name] = mergeType(fields[name], inferType(v))
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		if err := d.checkFieldName(name); err != nil {
			return destination.Result{}, err
		}
		names = append(names, name)
	}
	slices.Sort(names)

	pool, err := d.getPool(ctx)
	if err != nil {
		return destination.Result{}, fmt.Errorf("postgres: connect to %s: %w", d.where(), err)
	}
	tbl, err := d.ensureTable(ctx, pool, names, fields)
	if err != nil {
		return destination.Result{}, err
	}

	st := stage{key: tbl.key, cols: make([]*column, len(names))}
	for j, name := range names {
		if st.cols[j] = tbl.cols[name]; st.cols[j] == nil {
			d.forgetTable(tbl)
			return destination.Result{}, &destination.RetryableError{Err: fmt.Errorf("postgres: column %q is missing from %s after cdp added it: %w", name, d.tableName(), errSchemaChanged)}
		}
	}
	var sent []int // index in b.Rows of each staged row
	for i, r := range b.Rows {
		if !live(i) {
			continue
		}
		if reason := st.add(r, names); reason != "" {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
			continue
		}
		sent = append(sent, i)
	}
	if len(sent) > 0 {
		insertOnly := b.Mode == "insert"
		if err := d.apply(ctx, pool, tbl, &st, insertOnly); err != nil {
			if errors.Is(err, errSchemaChanged) {
				d.forgetTable(tbl)
			}
			var re *rowError
			if !errors.As(err, &re) {
				return destination.Result{}, err
			}
			if len(sent) > 1 {
				return destination.Result{}, fmt.Errorf("%w; the whole batch of %d rows was rolled back", err, len(sent))
			}
			res.Rows[sent[0]] = destination.RowResult{Outcome: destination.Rejected, Reason: re.reason}
		}
	}
	for i, r := range b.Rows {
		if !live(i) {
			res.Rows[i] = res.Rows[last[r.Key]]
		}
	}
	return res, nil
}

// forgetTable makes the next Write read the table's definition again, unless another Write
// already did since tbl was read.
func (d *Dest) forgetTable(tbl *table) {
	d.schemaMu.Lock()
	if d.tbl == tbl {
		d.tbl = nil
	}
	d.schemaMu.Unlock()
}

func (d *Dest) checkFieldName(name string) error {
	switch {
	case name == "":
		return errors.New("postgres: a mapped field has an empty name; name every field in the sync's mapping")
	case name == d.cfg.KeyColumn:
		return fmt.Errorf("postgres: the mapped field %q has the name of key_column, which holds the row's key; rename the field in the mapping or set key_column to another column", name)
	case name == SyncedAtColumn:
		return fmt.Errorf("postgres: the mapped field %q has the name of the column cdp writes the sync time to; rename the field in the mapping", name)
	case len(name) > maxIdentifier:
		return fmt.Errorf("postgres: the mapped field %q is longer than PostgreSQL's %d-byte limit for column names; rename it in the mapping", name, maxIdentifier)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("postgres: the mapped field %q contains a NUL character, which PostgreSQL names cannot; rename it in the mapping", name)
	}
	return nil
}

// stage holds a batch's rows as the staging table's columns: key, action, then one value per
// mapped field.
type stage struct {
	key    *column
	cols   []*column
	rows   [][]any
	counts map[destination.Action]int
}

// add converts row for the staging table, or returns why it cannot be stored.
func (s *stage) add(r destination.Row, names []string) string {
	key, reason := convert(r.Key, s.key)
	if reason != "" {
		return fmt.Sprintf("key %s", reason)
	}
	vals := make([]any, 2+len(s.cols))
	vals[0] = key
	action := r.Action
	if action != destination.Remove && action != destination.Change {
		action = destination.Add
	}
	vals[1] = string(action)
	if action != destination.Remove {
		for j, c := range s.cols {
			v, reason := convert(r.Fields[names[j]], c)
			if reason != "" {
				return fmt.Sprintf("field %q: %s", names[j], reason)
			}
			vals[2+j] = v
		}
	}
	if s.counts == nil {
		s.counts = map[destination.Action]int{}
	}
	s.counts[action]++
	s.rows = append(s.rows, vals)
	return ""
}

// apply writes the staged rows in one transaction.
func (d *Dest) apply(ctx context.Context, pool *pgxpool.Pool, tbl *table, st *stage, insertOnly bool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return d.fail(ctx, "begin a transaction", err)
	}
	defer func() {
		// A rollback after a cancelled context must not wait for it; pgx closes the connection
		// when the rollback cannot be sent.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()

	stageCols := []string{"k", "a"}
	defs := []string{"k " + st.key.wire(), "a text"}
	for j, c := range st.cols {
		name := "c" + strconv.Itoa(j)
		stageCols = append(stageCols, name)
		defs = append(defs, name+" "+c.wire())
	}
	if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE _cdp_stage ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
		return d.fail(ctx, phaseStage, err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"_cdp_stage"}, stageCols, pgx.CopyFromRows(st.rows)); err != nil {
		return d.fail(ctx, "copy the batch's rows", err)
	}
	target := d.tableName()
	keyCol := pgx.Identifier{d.cfg.KeyColumn}.Sanitize()
	if st.counts[destination.Remove] > 0 {
		sql := fmt.Sprintf("DELETE FROM %s AS t USING _cdp_stage AS s WHERE s.a = 'remove' AND t.%s = %s", target, keyCol, st.key.expr("s.k"))
		if _, err := tx.Exec(ctx, sql); err != nil {
			return d.fail(ctx, "delete the removed rows", err)
		}
	}
	cols := []string{keyCol}
	exprs := []string{st.key.expr("s.k")}
	var sets []string
	for j, c := range st.cols {
		q := pgx.Identifier{c.name}.Sanitize()
		cols = append(cols, q)
		exprs = append(exprs, c.expr("s.c"+strconv.Itoa(j)))
		sets = append(sets, q+" = EXCLUDED."+q)
	}
	synced := pgx.Identifier{SyncedAtColumn}.Sanitize()
	cols = append(cols, synced)
	exprs = append(exprs, "now()")
	sets = append(sets, synced+" = EXCLUDED."+synced)
	insert := func(where, onConflict string) error {
		sql := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM _cdp_stage AS s WHERE %s ON CONFLICT (%s) %s",
			target, strings.Join(cols, ", "), strings.Join(exprs, ", "), where, keyCol, onConflict)
		if _, err := tx.Exec(ctx, sql); err != nil {
			return d.fail(ctx, "write the rows", err)
		}
		return nil
	}
	upsert := "DO UPDATE SET " + strings.Join(sets, ", ")
	switch {
	case insertOnly:
		// Insert mode never overwrites a row; only a change, which the engine does not send in
		// this mode, asks for that explicitly.
		if st.counts[destination.Add] > 0 {
			if err := insert("s.a = 'add'", "DO NOTHING"); err != nil {
				return err
			}
		}
		if st.counts[destination.Change] > 0 {
			if err := insert("s.a = 'change'", upsert); err != nil {
				return err
			}
		}
	case st.counts[destination.Add]+st.counts[destination.Change] > 0:
		if err := insert("s.a <> 'remove'", upsert); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return d.fail(ctx, "commit", err)
	}
	return nil
}
