package identity

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// Explanation says which profile an identifier belongs to and why: the profile's identifiers,
// the links that joined them (with the event that made each), and the links that were refused.
type Explanation struct {
	Input string `json:"input"`
	Type  string `json:"type,omitempty"` // as asked; "" for any type
	Model string `json:"model"`
	// Matches are the identifiers the input normalizes to that are in the identity map.
	Matches  []Identity `json:"matches"`
	Profiles []Profile  `json:"profiles"`
	// Dropped are the input's own entries in the dropped-links audit when it is in no profile
	// (blocked or invalid).
	Dropped []Link `json:"dropped,omitempty"`
}

// Identity is one identifier of a profile.
type Identity struct {
	Type      string     `json:"type"`
	Value     string     `json:"identifier"`
	FirstSeen *time.Time `json:"first_seen_at,omitempty"`
	LastSeen  *time.Time `json:"last_seen_at,omitempty"`
}

// Profile is one profile with everything that explains it.
type Profile struct {
	ID          string     `json:"profile_id"`
	Identifiers []Identity `json:"identifiers"`
	Links       []Link     `json:"links"`
	Refused     []Link     `json:"refused"`
}

// Link is an accepted or refused link between two identifiers.
type Link struct {
	Type       string     `json:"type"`
	Value      string     `json:"identifier"`
	OtherType  string     `json:"other_type,omitempty"`
	OtherValue string     `json:"other_identifier,omitempty"`
	EventID    string     `json:"event_id,omitempty"` // the first event that made the link
	FirstSeen  *time.Time `json:"first_seen_at,omitempty"`
	Events     int64      `json:"events"`
	Reason     string     `json:"reason,omitempty"` // refused links: blocked, invalid, limit, max_group_size
}

// ErrNoIdentityMap is returned (wrapped) by Explain when the model has not been built.
var ErrNoIdentityMap = errors.New("identity map not found")

// Explain looks input up in the identity model at rel (and its siblings): it normalizes input
// with the rules of the model's last build, for every identifier type or only typ, and
// describes the profiles it belongs to.
func Explain(ctx context.Context, wh warehouse.Warehouse, rel warehouse.Relation, input, typ string) (*Explanation, error) {
	d := wh.Dialect()
	ex := &Explanation{Input: input, Type: typ, Model: rel.String(), Matches: []Identity{}, Profiles: []Profile{}}
	if _, err := wh.Columns(ctx, rel); err != nil {
		if errors.Is(err, warehouse.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s does not exist; build it first (cdp run -s %s) or name the model with --model", ErrNoIdentityMap, rel, rel.Name)
		}
		return nil, err
	}
	sib := func(s string) string {
		return d.Relation(warehouse.Relation{Schema: rel.Schema, Name: rel.Name + "_" + s})
	}
	rules, err := lastRules(ctx, wh, sib(SuffixMetrics))
	if err != nil {
		return nil, err
	}
	if typ != "" {
		if !containsType(rules, typ) {
			return nil, fmt.Errorf("unknown identifier type %q; the model has %s", typ, strings.Join(rules.Priority, ", "))
		}
	}

	// Candidate (type, value) pairs: the input as each rule would normalize it.
	var cands []string
	seen := map[string]bool{}
	src := "(SELECT CAST(" + d.QuoteString(input) + " AS " + d.Type("string") + ") AS raw) v"
	for _, id := range rules.Identifiers {
		if typ != "" && id.Type != typ {
			continue
		}
		key := id.Type + "\x00" + id.Normalize + "\x00" + id.Country
		if seen[key] {
			continue
		}
		seen[key] = true
		cands = append(cands, "SELECT "+d.QuoteString(id.Type)+" AS t, value FROM ("+normalizeSelect(d, id, rules.DefaultCountry, src, nil)+") n")
	}
	if len(cands) == 0 {
		return ex, nil
	}
	rows, err := query(ctx, wh, "SELECT m.identifier_type, m.identifier, m.profile_id FROM "+d.Relation(rel)+" m JOIN ("+strings.Join(cands, " UNION ALL ")+
		") c ON c.t = m.identifier_type AND c.value = m.identifier ORDER BY m.profile_id, m.identifier_type, m.identifier")
	if err != nil {
		return nil, err
	}
	var pids []string
	for _, r := range rows {
		ex.Matches = append(ex.Matches, Identity{Type: str(r[0]), Value: str(r[1])})
		if len(pids) == 0 || pids[len(pids)-1] != str(r[2]) {
			pids = append(pids, str(r[2]))
		}
	}
	if len(pids) == 0 {
		// Not in any profile: perhaps blocked or invalid.
		cond := "TRIM(identifier) = " + d.QuoteString(strings.TrimSpace(input))
		if typ != "" {
			cond += " AND identifier_type = " + d.QuoteString(typ)
		}
		if ex.Dropped, err = links(ctx, wh, "SELECT identifier_type, identifier, other_type, other_identifier, event_id, CAST(NULL AS "+d.Type("timestamp")+"), events, reason FROM "+
			sib(SuffixDropped)+" WHERE other_identifier IS NULL AND "+cond+" ORDER BY identifier_type, identifier"); err != nil {
			return nil, err
		}
		return ex, nil
	}
	for _, pid := range pids {
		p := Profile{ID: pid}
		lit := d.QuoteString(pid)
		rows, err := query(ctx, wh, "SELECT identifier_type, identifier, first_seen_at, last_seen_at FROM "+d.Relation(rel)+" WHERE profile_id = "+lit+
			" ORDER BY first_seen_at, identifier_type, identifier")
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			p.Identifiers = append(p.Identifiers, Identity{Type: str(r[0]), Value: str(r[1]), FirstSeen: tm(r[2]), LastSeen: tm(r[3])})
		}
		sortByPriority(p.Identifiers, rules)
		if p.Links, err = links(ctx, wh, "SELECT identifier_type, identifier, other_type, other_identifier, event_id, first_seen_at, events, CAST(NULL AS "+d.Type("string")+") FROM "+
			sib(SuffixEdges)+" WHERE profile_id = "+lit+" ORDER BY first_seen_at, identifier_type, identifier, other_type, other_identifier"); err != nil {
			return nil, err
		}
		members := "(SELECT identifier_type, identifier FROM " + d.Relation(rel) + " WHERE profile_id = " + lit + ")"
		if p.Refused, err = links(ctx, wh, "SELECT l.identifier_type, l.identifier, l.other_type, l.other_identifier, l.event_id, CAST(NULL AS "+d.Type("timestamp")+"), l.events, l.reason FROM "+
			sib(SuffixDropped)+" l WHERE EXISTS (SELECT 1 FROM "+members+" m WHERE (m.identifier_type = l.identifier_type AND m.identifier = l.identifier) "+
			"OR (m.identifier_type = l.other_type AND m.identifier = l.other_identifier)) ORDER BY l.reason, l.identifier_type, l.identifier, l.other_type, l.other_identifier"); err != nil {
			return nil, err
		}
		ex.Profiles = append(ex.Profiles, p)
	}
	return ex, nil
}

// lastRules reads the rules of the model's last build from its metrics, or the defaults.
func lastRules(ctx context.Context, wh warehouse.Warehouse, metrics string) (*Rules, error) {
	rows, err := query(ctx, wh, "SELECT rules FROM "+metrics+" ORDER BY built_at DESC LIMIT 1")
	if err == nil && len(rows) == 1 && rows[0][0] != nil {
		if r, err := rulesFromJSON(str(rows[0][0])); err == nil && len(r.Identifiers) > 0 {
			return r, nil
		}
	}
	r, _ := ParseRules(nil)
	var cols []string
	for _, id := range DefaultIdentifiers {
		cols = append(cols, id.Column)
	}
	if err := r.Resolve(append(cols, r.EventID, r.Timestamp)); err != nil {
		return nil, err
	}
	return r, nil
}

func containsType(r *Rules, typ string) bool {
	for _, t := range r.Priority {
		if t == typ {
			return true
		}
	}
	return false
}

func sortByPriority(ids []Identity, r *Rules) {
	sort.SliceStable(ids, func(i, j int) bool { return r.rank(ids[i].Type) < r.rank(ids[j].Type) })
}

func links(ctx context.Context, wh warehouse.Warehouse, sql string) ([]Link, error) {
	rows, err := query(ctx, wh, sql)
	if err != nil {
		return nil, err
	}
	out := []Link{}
	for _, r := range rows {
		n, _ := strconv.ParseInt(str(r[6]), 10, 64)
		out = append(out, Link{Type: str(r[0]), Value: str(r[1]), OtherType: str(r[2]), OtherValue: str(r[3]), EventID: str(r[4]), FirstSeen: tm(r[5]), Events: n, Reason: str(r[7])})
	}
	return out, nil
}

func query(ctx context.Context, wh warehouse.Warehouse, sql string) ([][]any, error) {
	rows, err := wh.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

func tm(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		t = t.UTC()
		return &t
	}
	return nil
}
