package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdp-dev/cdp/internal/destination"
)

// What a failing statement was doing; fail picks the fix it suggests by it.
const (
	phaseCreate = "create table"
	phaseAlter  = "add columns"
	phaseStage  = "create the staging table"
)

// rowError is PostgreSQL refusing a value of the batch (SQLSTATE class 22 or 23): the rows are
// at fault, not the connection or the configuration.
type rowError struct {
	reason string
	err    error
}

func (e *rowError) Error() string { return "postgres: PostgreSQL refused a row: " + e.reason }
func (e *rowError) Unwrap() error { return e.err }

// errSchemaChanged marks a failure because the table or a column cdp knew of is gone.
var errSchemaChanged = errors.New("the table changed while cdp wrote to it")

// fail turns an error of a statement into what the engine and the user need: the context's
// error when the Write was cancelled, a RetryableError for what may pass, a rowError for
// refused values, and otherwise an error that says how to fix the cause.
func (d *Dest) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("postgres: %s: %w", what, ctx.Err())
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		msg := pgMessage(pe)
		code := pe.Code
		user := d.cfg.pool.ConnConfig.User
		quser := pgx.Identifier{user}.Sanitize()
		qschema := pgx.Identifier{d.cfg.Schema}.Sanitize()
		switch {
		case retryableCode(code):
			return &destination.RetryableError{Err: fmt.Errorf("postgres: %s on %s: %s", what, d.where(), msg)}
		case code == "42P01" || code == "42703":
			return &destination.RetryableError{Err: fmt.Errorf("postgres: %s: %s: %w; cdp reads its definition again and retries", what, msg, errSchemaChanged)}
		case (code == "23505" || code == "42P07") && what == phaseCreate:
			// Two sessions ran CREATE TABLE IF NOT EXISTS at once: the table is there now.
			return &destination.RetryableError{Err: fmt.Errorf("postgres: %s: %s (created at the same time by another session)", what, msg)}
		case strings.HasPrefix(code, "22") || strings.HasPrefix(code, "23") || code == "21000":
			return &rowError{reason: msg, err: err}
		case code == "42501":
			var fix string
			switch {
			case what == phaseCreate:
				fix = fmt.Sprintf("user %s may not create tables in schema %s: have its owner run GRANT CREATE ON SCHEMA %s TO %s, or create the table yourself", quser, qschema, qschema, quser)
			case strings.HasPrefix(what, phaseAlter):
				fix = fmt.Sprintf("only the table's owner may add columns: add them as the owner (the statement above), or make %s the owner: ALTER TABLE %s OWNER TO %s", quser, d.tableName(), quser)
			case what == phaseStage:
				fix = fmt.Sprintf("cdp stages each batch in a temporary table: GRANT TEMPORARY ON DATABASE %s TO %s", pgx.Identifier{d.cfg.pool.ConnConfig.Database}.Sanitize(), quser)
			default:
				fix = fmt.Sprintf("user %s needs GRANT USAGE ON SCHEMA %s TO %s and GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s", quser, qschema, quser, d.tableName(), quser)
			}
			return fmt.Errorf("postgres: %s: %s; %s", what, msg, fix)
		case code == "42P10":
			key := pgx.Identifier{d.cfg.KeyColumn}.Sanitize()
			return fmt.Errorf("postgres: %s: column %s of %s has no primary key or unique index, which cdp needs to update rows by key: ALTER TABLE %s ADD PRIMARY KEY (%s), or CREATE UNIQUE INDEX ON %s (%s) [%s]",
				what, key, d.tableName(), d.tableName(), key, d.tableName(), key, msg)
		case code == "28P01" || code == "28000":
			return fmt.Errorf("postgres: %s: %s refused the login: %s; check the user and password in url (the environment variable it comes from) and that pg_hba.conf admits this host", what, d.where(), msg)
		case code == "3D000":
			return fmt.Errorf("postgres: %s: %s: %s; create the database (CREATE DATABASE %s) or fix the database in url", what, d.where(), msg, pgx.Identifier{d.cfg.pool.ConnConfig.Database}.Sanitize())
		case code == "3F000":
			return fmt.Errorf("postgres: %s: %s; create the schema (CREATE SCHEMA %s) or set schema to an existing one", what, msg, qschema)
		}
		return fmt.Errorf("postgres: %s: %s", what, msg)
	}
	if connectionLost(err) {
		return &destination.RetryableError{Err: fmt.Errorf("postgres: %s: cannot reach %s: %s; check that the server is running and reachable from here, and the host and port in url", what, d.where(), oneLine(err))}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// retryableCode reports SQLSTATEs that are about the moment, not the data or the config:
// connection exceptions, serialization failures and deadlocks, lack of resources (too many
// connections, disk full), the server shutting down or starting, cancelled statements
// (statement_timeout) and lock timeouts.
func retryableCode(code string) bool {
	switch code {
	case "40001", "40P01", "40003", "57P01", "57P02", "57P03", "57P05", "57014", "55P03", "55006":
		return true
	}
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53")
}

// connectionLost reports errors of the connection rather than of a statement: refused or
// reset connections, timeouts, a socket closed under the driver.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err), pgconn.SafeToRetry(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	s := err.Error()
	return strings.Contains(s, "conn closed") || strings.Contains(s, "unexpected EOF") || strings.Contains(s, "broken pipe")
}

// pgMessage is a PostgreSQL error with its detail and hint: the detail often names the value or
// key at fault ("Key (email)=(a@b.c) already exists.").
func pgMessage(pe *pgconn.PgError) string {
	var b strings.Builder
	b.WriteString(pe.Message)
	if pe.Detail != "" {
		detail := pe.Detail
		if len(detail) > 300 {
			detail = detail[:300] + "…"
		}
		b.WriteString(" (" + detail + ")")
	}
	if pe.Hint != "" {
		b.WriteString("; hint: " + pe.Hint)
	}
	b.WriteString(" [SQLSTATE " + pe.Code + "]")
	return b.String()
}

// oneLine joins the lines of a multi-line error, without repeats: pgx reports each connection
// attempt (with and without TLS, each address of a host) on a line of its own, often the same.
func oneLine(err error) string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}
