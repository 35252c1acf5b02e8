package audience

import (
	"context"
	"errors"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// HistoryRelation is the membership history: one row per stay of a profile in an audience,
// (audience, profile_id, entered_at, exited_at), exited_at NULL while the profile is a member.
type HistoryRelation struct {
	Rel warehouse.Relation
	d   warehouse.Dialect
}

// History is the membership history table of a schema.
func History(d warehouse.Dialect, schema string) HistoryRelation {
	return HistoryRelation{Rel: warehouse.Relation{Schema: schema, Name: HistoryTable}, d: d}
}

// Create makes the table if it does not exist.
func (h HistoryRelation) Create() string {
	d := h.d
	return "CREATE TABLE IF NOT EXISTS " + d.Relation(h.Rel) + " (" +
		d.QuoteIdent("audience") + " " + d.Type("string") + " NOT NULL, " +
		d.QuoteIdent(ProfileID) + " " + d.Type("string") + " NOT NULL, " +
		d.QuoteIdent("entered_at") + " " + d.Type("timestamp") + " NOT NULL, " +
		d.QuoteIdent("exited_at") + " " + d.Type("timestamp") + ")"
}

// memberID is a member's profile_id as the history stores it (text, whatever the population's
// type).
func (h HistoryRelation) memberID(alias string) string {
	return "CAST(" + alias + "." + h.d.QuoteIdent(ProfileID) + " AS " + h.d.Type("string") + ")"
}

// open is the condition on history row alias h being audience's open stay.
func (h HistoryRelation) open(alias, audience string) string {
	q := h.d.QuoteIdent
	return alias + "." + q("audience") + " = " + h.d.QuoteString(audience) + " AND " + alias + "." + q("exited_at") + " IS NULL"
}

// enters selects the members of the new table (alias n) without an open stay.
func (h HistoryRelation) enters(audience, members string) string {
	q := h.d.QuoteIdent
	return "FROM " + members + " AS n WHERE NOT EXISTS (SELECT 1 FROM " + h.d.Relation(h.Rel) + " AS h WHERE " +
		h.open("h", audience) + " AND h." + q(ProfileID) + " = " + h.memberID("n") + ")"
}

// exits selects the open stays (alias h) whose profile is not in the new table.
func (h HistoryRelation) exits(audience, members string) string {
	q := h.d.QuoteIdent
	return h.open("h", audience) + " AND NOT EXISTS (SELECT 1 FROM " + members + " AS n WHERE " +
		h.memberID("n") + " = h." + q(ProfileID) + ")"
}

// Changes counts the profiles that enter and exit audience when members (a rendered relation
// with a profile_id column) becomes its membership.
func (h HistoryRelation) Changes(ctx context.Context, wh warehouse.Warehouse, audience, members string) (entered, exited int64, err error) {
	rows, err := wh.Query(ctx, "SELECT (SELECT count(*) "+h.enters(audience, members)+"), (SELECT count(*) FROM "+
		h.d.Relation(h.Rel)+" AS h WHERE "+h.exits(audience, members)+")")
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, 0, errors.New("counting entries and exits: no row")
	}
	if err := rows.Scan(&entered, &exited); err != nil {
		return 0, 0, err
	}
	return entered, exited, rows.Err()
}

// Apply renders the statements that record members as audience's membership at time at:
// open stays of profiles that left are closed, profiles without an open stay get a new one.
// They run before members is renamed into place, in the same transaction.
func (h HistoryRelation) Apply(audience, members string, at time.Time) []string {
	d, q := h.d, h.d.QuoteIdent
	ts := d.TryCast(d.QuoteString(at.UTC().Format("2006-01-02 15:04:05.000000")+"+00"), "timestamp")
	return []string{
		"UPDATE " + d.Relation(h.Rel) + " AS h SET " + q("exited_at") + " = " + ts + " WHERE " + h.exits(audience, members),
		"INSERT INTO " + d.Relation(h.Rel) + " (" + q("audience") + ", " + q(ProfileID) + ", " + q("entered_at") + ", " + q("exited_at") + ") " +
			"SELECT " + d.QuoteString(audience) + ", " + h.memberID("n") + ", " + ts + ", NULL " + h.enters(audience, members),
	}
}
