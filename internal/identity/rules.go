package identity

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/cdp-dev/cdp/internal/config"
)

// Rules are what a model's `identity:` config says, with defaults filled in.
type Rules struct {
	// EventID and Timestamp are columns (or SQL expressions) of the observations.
	EventID   string `json:"event_id"`
	Timestamp string `json:"timestamp"`
	// DefaultCountry is the ISO 3166 alpha-2 country phone numbers without a country code are
	// read in ("US").
	DefaultCountry string       `json:"default_country"`
	Identifiers    []Identifier `json:"identifiers"`
	// Priority orders the identifier types, highest first. After Resolve it lists every type
	// of Identifiers exactly once.
	Priority     []string  `json:"priority"`
	Blocklist    Blocklist `json:"blocklist"`
	MaxGroupSize int       `json:"max_group_size"`
	MaxRounds    int       `json:"max_rounds"`
}

// Identifier is one identifier rule: a column of the observations that holds identifiers of a
// type. Several rules may share a type (anonymous_id and previous_id are both anonymous ids);
// they then share its limit and priority.
type Identifier struct {
	Type string `json:"type"`
	// Column is a column name or any SQL expression over the observations.
	Column string `json:"column"`
	// Normalize is email, phone, trim, lower or none.
	Normalize string `json:"normalize"`
	// Limit is the most identifiers of this type one profile may hold; 0 means no limit.
	Limit int `json:"limit"`
	// Country overrides DefaultCountry for a phone rule.
	Country string `json:"country,omitempty"`
	// Bridge says whether an identifier of this type may join two profiles that each hold an
	// identifier of a higher-priority type (default: true, but false for anonymous_id). With
	// false, a browser seen with two customers (or two emails) stays with the one it was seen
	// with most; the link to the other is refused (reason bridge).
	Bridge bool `json:"bridge"`
	// bridgeSet records that the config gave Bridge.
	bridgeSet bool
	// limitSet records that the config gave Limit (rules of one type must agree on it).
	limitSet bool
}

// Blocklist holds values that are never identifiers.
type Blocklist struct {
	// Defaults says whether DefaultBlockedValues and DefaultBlockedPatterns apply too
	// (default true).
	Defaults bool `json:"defaults"`
	// Values are compared with the lower-cased (normalized) value.
	Values []string `json:"values"`
	// Patterns are RE2 regular expressions matched against the lower-cased (normalized) value;
	// anchor them with ^ and $.
	Patterns []string `json:"patterns"`
}

// Normalizers.
const (
	NormEmail = "email"
	NormPhone = "phone"
	NormTrim  = "trim"
	NormLower = "lower"
	NormNone  = "none"
)

var normalizers = []string{NormEmail, NormPhone, NormTrim, NormLower, NormNone}

// DefaultIdentifiers are used when a model lists none: each one whose column the observations
// have. Their order is the default priority.
var DefaultIdentifiers = []Identifier{
	{Type: "user_id", Column: "user_id", Normalize: NormTrim, Limit: 1, Bridge: true},
	{Type: "email", Column: "email", Normalize: NormEmail, Limit: 5, Bridge: true},
	{Type: "phone", Column: "phone", Normalize: NormPhone, Limit: 3, Bridge: true},
	{Type: "device_id", Column: "device_id", Normalize: NormTrim, Limit: 10, Bridge: true},
	{Type: "anonymous_id", Column: "anonymous_id", Normalize: NormTrim, Limit: 100, Bridge: false},
}

// DefaultBlockedValues are placeholders that instrumentation sends when it has no identifier,
// compared with the lower-cased value. Values that only contain zeros and dashes (0, -1 aside)
// are caught by DefaultBlockedPatterns.
var DefaultBlockedValues = []string{
	"null", "undefined", "none", "nil", "nan", "n/a", "na", "-1", "[object object]", "{}", "[]",
	`""`, "''", "true", "false", "anonymous", "anon", "unknown", "test", "guest", "user",
	"default", "empty", "blank", "not set", "(not set)", "not available", "unavailable",
	"no email", "noemail", "no-email", "nobody",
	// placeholder email addresses typed into forms
	"test@test.com", "test@example.com", "email@email.com", "email@example.com", "a@a.com",
	"a@b.com", "abc@abc.com", "abc@xyz.com", "asdf@asdf.com", "x@x.com", "xx@xx.com",
	"xxx@xxx.com", "foo@bar.com", "user@example.com", "example@example.com", "name@example.com",
	"none@none.com", "no@email.com", "na@na.com", "null@null.com", "test@gmail.com",
	"test@test.test",
}

// DefaultBlockedPatterns are RE2 patterns of placeholder values, matched against the
// lower-cased value.
var DefaultBlockedPatterns = []string{
	`^[0-]*$`, // 0, 000000, 00000000-0000-0000-0000-000000000000, -, ---
	`^(no-?e?mail|noreply|no-reply|donotreply|do-not-reply|none|null|nobody|test)@`,
	`@(example\.(com|net|org)|test\.com)$`,
	`@[^@]*\.(test|example|invalid|localhost|local)$`,
}

// Defaults for the scalar settings.
const (
	DefaultEventID      = "message_id"
	DefaultTimestamp    = "timestamp"
	DefaultCountry      = "US"
	DefaultMaxGroupSize = 10000
	DefaultMaxRounds    = 40
)

// defaultLimits are the limits of the default types when a rule names the type without one.
var defaultLimits = map[string]int{"user_id": 1, "email": 5, "phone": 3, "device_id": 10, "anonymous_id": 100}

var typeName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ParseRules reads the value of a model's `identity:` config (nil when the model has none) as
// YAML or a config() call delivers it: maps, lists, strings and numbers. Settings left out get
// their defaults; identifiers are left empty when not given (Resolve picks the defaults by the
// observations' columns). Errors name the key ("identity.identifiers[2].limit").
func ParseRules(v any) (*Rules, error) {
	r := &Rules{
		EventID: DefaultEventID, Timestamp: DefaultTimestamp, DefaultCountry: DefaultCountry,
		MaxGroupSize: DefaultMaxGroupSize, MaxRounds: DefaultMaxRounds,
		Blocklist: Blocklist{Defaults: true},
	}
	if v == nil {
		return r, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("identity: want a mapping of settings, got %s", describe(v))
	}
	p := &parser{}
	keys := []string{"event_id", "timestamp", "default_country", "identifiers", "priority", "blocklist", "max_group_size", "max_rounds"}
	for _, k := range sortedKeys(m) {
		val := m[k]
		at := "identity." + k
		switch k {
		case "event_id":
			r.EventID = p.str(at, val)
		case "timestamp":
			r.Timestamp = p.str(at, val)
		case "default_country":
			r.DefaultCountry = strings.ToUpper(p.str(at, val))
		case "identifiers":
			list, ok := val.([]any)
			if !ok {
				p.errf("%s: want a list of {type: ..., column: ...}, got %s", at, describe(val))
				continue
			}
			for i, item := range list {
				r.Identifiers = append(r.Identifiers, p.identifier(fmt.Sprintf("%s[%d]", at, i), item))
			}
			if len(list) == 0 {
				p.errf("%s: the list is empty; leave the key out to use the defaults", at)
			}
		case "priority":
			r.Priority = p.strList(at, val)
		case "blocklist":
			r.Blocklist = p.blocklist(at, val)
		case "max_group_size":
			r.MaxGroupSize = p.positive(at, val)
		case "max_rounds":
			r.MaxRounds = p.positive(at, val)
		default:
			hint := ""
			if s := config.Suggest(k, keys); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			p.errf("%s: unknown setting%s (known: %s)", at, hint, strings.Join(keys, ", "))
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return r, nil
}

// Resolve fills in what depends on the observations' columns (the default identifiers are
// those whose column exists) and checks the rules as a whole. columns are the observations'
// column names.
func (r *Rules) Resolve(columns []string) error {
	has := map[string]bool{}
	for _, c := range columns {
		has[strings.ToLower(c)] = true
	}
	p := &parser{}
	if len(r.Identifiers) == 0 {
		for _, id := range DefaultIdentifiers {
			if has[id.Column] {
				r.Identifiers = append(r.Identifiers, id)
			}
		}
		if len(r.Identifiers) == 0 {
			return fmt.Errorf("identity: the observations have none of the default identifier columns (user_id, email, phone, device_id, anonymous_id); select some of them or list identity.identifiers (columns: %s)", strings.Join(columns, ", "))
		}
	}
	for _, c := range []struct{ key, expr string }{{"event_id", r.EventID}, {"timestamp", r.Timestamp}} {
		if isName(c.expr) && !has[strings.ToLower(c.expr)] {
			p.errf("identity.%s: the observations have no column %q (columns: %s)", c.key, c.expr, strings.Join(columns, ", "))
		}
	}
	// A type's limit is the one its rules give (they must agree), else its default.
	limits := map[string]int{}
	given := map[string]int{} // type -> index of the rule that gave its limit
	var types []string
	for i, id := range r.Identifiers {
		at := fmt.Sprintf("identity.identifiers[%d]", i)
		if isName(id.Column) && !has[strings.ToLower(id.Column)] {
			p.errf("%s.column: the observations have no column %q (columns: %s)", at, id.Column, strings.Join(columns, ", "))
		}
		if _, seen := limits[id.Type]; !seen {
			types = append(types, id.Type)
			limits[id.Type] = defaultLimits[id.Type]
		}
		if id.limitSet {
			if j, ok := given[id.Type]; ok && r.Identifiers[j].Limit != id.Limit {
				p.errf("%s.limit: type %s has limit %d in identifiers[%d] and %d here; give one limit", at, id.Type, r.Identifiers[j].Limit, j, id.Limit)
			} else if !ok {
				given[id.Type] = i
				limits[id.Type] = id.Limit
			}
		}
		country := id.Country
		if country == "" {
			country = r.DefaultCountry
		}
		if id.Normalize == NormPhone {
			if _, ok := countries[country]; !ok {
				p.errf("%s: unknown country %q for phone numbers; known: %s", at, country, strings.Join(countryCodes(), ", "))
			}
		}
	}
	// Priority: as listed, then the default order, then the rest as they first appear.
	var order []string
	seen := map[string]bool{}
	for i, t := range r.Priority {
		if _, ok := limits[t]; !ok {
			p.errf("identity.priority[%d]: %q is not the type of any identifier (types: %s)", i, t, strings.Join(types, ", "))
			continue
		}
		if seen[t] {
			p.errf("identity.priority[%d]: %q is listed twice", i, t)
			continue
		}
		seen[t] = true
		order = append(order, t)
	}
	for _, id := range DefaultIdentifiers {
		if _, ok := limits[id.Type]; ok && !seen[id.Type] {
			seen[id.Type] = true
			order = append(order, id.Type)
		}
	}
	for _, t := range types {
		if !seen[t] {
			seen[t] = true
			order = append(order, t)
		}
	}
	r.Priority = order
	bridges := map[string]int{} // type -> index of the rule that set bridge
	for i, id := range r.Identifiers {
		if !id.bridgeSet {
			continue
		}
		if j, ok := bridges[id.Type]; ok && r.Identifiers[j].Bridge != id.Bridge {
			p.errf("identity.identifiers[%d].bridge: type %s has bridge %v in identifiers[%d]; give one setting", i, id.Type, r.Identifiers[j].Bridge, j)
		} else if !ok {
			bridges[id.Type] = i
		}
	}
	for i := range r.Identifiers {
		id := &r.Identifiers[i]
		id.Limit = limits[id.Type]
		id.limitSet = true
		if j, ok := bridges[id.Type]; ok {
			id.Bridge = r.Identifiers[j].Bridge
		} else {
			id.Bridge = defaultBridge(id.Type)
		}
		id.bridgeSet = true
	}
	for i, pat := range r.Blocklist.Patterns {
		if _, err := regexp.Compile(pat); err != nil {
			p.errf("identity.blocklist.patterns[%d]: %v", i, err)
		}
	}
	if _, ok := countries[r.DefaultCountry]; !ok {
		p.errf("identity.default_country: unknown country %q; known: %s", r.DefaultCountry, strings.Join(countryCodes(), ", "))
	}
	return p.err()
}

// defaultBridge is whether a type bridges profiles unless its rules say: everything but
// anonymous ids. An anonymous id is a browser or an app install, which families and shops
// share; it may add itself to one known profile but not join two of them.
func defaultBridge(typ string) bool { return typ != "anonymous_id" }

// Bridges reports whether identifiers of a type may join profiles that each hold a
// higher-priority identifier.
func (r *Rules) Bridges(typ string) bool {
	for _, id := range r.Identifiers {
		if id.Type == typ {
			return id.Bridge
		}
	}
	return true
}

// Limit is the limit of a type (0: none).
func (r *Rules) Limit(typ string) int {
	for _, id := range r.Identifiers {
		if id.Type == typ {
			return id.Limit
		}
	}
	return 0
}

// rank is the 1-based priority of a type (1 is the highest).
func (r *Rules) rank(typ string) int { return slices.Index(r.Priority, typ) + 1 }

// values and patterns are the effective blocklist, lower-cased values.
func (r *Rules) blockedValues() []string {
	var out []string
	if r.Blocklist.Defaults {
		out = append(out, DefaultBlockedValues...)
	}
	for _, v := range r.Blocklist.Values {
		out = append(out, strings.ToLower(strings.TrimSpace(v)))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func (r *Rules) blockedPatterns() []string {
	var out []string
	if r.Blocklist.Defaults {
		out = append(out, DefaultBlockedPatterns...)
	}
	return append(out, r.Blocklist.Patterns...)
}

// JSON renders the rules for the metrics table, from which `cdp identity explain` reads them.
func (r *Rules) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// rulesFromJSON reads what JSON wrote.
func rulesFromJSON(s string) (*Rules, error) {
	var r Rules
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// isName reports whether a column setting is a plain column name rather than an expression.
func isName(s string) bool { return plainName.MatchString(s) }

// parser collects errors while reading the config.
type parser struct{ errs []string }

func (p *parser) errf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf(format, args...))
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(p.errs, "\n"))
}

func (p *parser) str(at string, v any) string {
	s, ok := v.(string)
	if !ok || strings.TrimSpace(s) == "" {
		p.errf("%s: want a non-empty string, got %s", at, describe(v))
		return ""
	}
	return strings.TrimSpace(s)
}

func (p *parser) strList(at string, v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				p.errf("%s[%d]: want a string, got %s", at, i, describe(e))
				continue
			}
			out = append(out, s)
		}
		return out
	case []string:
		return slices.Clone(v)
	}
	p.errf("%s: want a list of strings, got %s", at, describe(v))
	return nil
}

func (p *parser) integer(at string, v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case uint64:
		return int(n), true
	case float64:
		if n == math.Trunc(n) {
			return int(n), true
		}
	}
	p.errf("%s: want a whole number, got %s", at, describe(v))
	return 0, false
}

func (p *parser) positive(at string, v any) int {
	n, ok := p.integer(at, v)
	if ok && n < 1 {
		p.errf("%s: want a number of at least 1, got %d", at, n)
	}
	return n
}

func (p *parser) identifier(at string, v any) Identifier {
	m, ok := v.(map[string]any)
	if !ok {
		p.errf("%s: want {type: ..., column: ...}, got %s", at, describe(v))
		return Identifier{}
	}
	var id Identifier
	keys := []string{"type", "column", "normalize", "limit", "country", "bridge"}
	limitSet := false
	for _, k := range sortedKeys(m) {
		val := m[k]
		switch k {
		case "type":
			id.Type = p.str(at+".type", val)
			if id.Type != "" && !typeName.MatchString(id.Type) {
				p.errf("%s.type: %q is not a type name: use lower-case letters, digits and _ (crm_id)", at, id.Type)
			}
		case "column":
			id.Column = p.str(at+".column", val)
		case "normalize":
			id.Normalize = p.str(at+".normalize", val)
			if id.Normalize != "" && !slices.Contains(normalizers, id.Normalize) {
				p.errf("%s.normalize: unknown normalizer %q; want one of %s", at, id.Normalize, strings.Join(normalizers, ", "))
			}
		case "limit":
			if n, ok := p.integer(at+".limit", val); ok {
				if n < 0 {
					p.errf("%s.limit: want 0 (no limit) or more, got %d", at, n)
				}
				id.Limit, limitSet = n, true
			}
		case "country":
			id.Country = strings.ToUpper(p.str(at+".country", val))
		case "bridge":
			b, ok := val.(bool)
			if !ok {
				p.errf("%s.bridge: want true or false, got %s", at, describe(val))
			}
			id.Bridge, id.bridgeSet = b, true
		default:
			hint := ""
			if s := config.Suggest(k, keys); s != "" {
				hint = fmt.Sprintf("; did you mean %q?", s)
			}
			p.errf("%s.%s: unknown key%s (known: %s)", at, k, hint, strings.Join(keys, ", "))
		}
	}
	if id.Type == "" {
		if _, ok := m["type"]; !ok {
			p.errf("%s: type is missing", at)
		}
	}
	if id.Column == "" {
		if _, ok := m["column"]; !ok {
			id.Column = id.Type // {type: email} reads column email
		}
	}
	if id.Normalize == "" {
		switch id.Type {
		case "email":
			id.Normalize = NormEmail
		case "phone":
			id.Normalize = NormPhone
		default:
			id.Normalize = NormTrim
		}
	}
	id.limitSet = limitSet
	if !id.bridgeSet {
		id.Bridge = defaultBridge(id.Type)
	}
	if id.Country != "" && id.Normalize != NormPhone {
		p.errf("%s.country: only phone rules take a country", at)
	}
	return id
}

func (p *parser) blocklist(at string, v any) Blocklist {
	b := Blocklist{Defaults: true}
	m, ok := v.(map[string]any)
	if !ok {
		p.errf("%s: want {values: [...], patterns: [...]}, got %s", at, describe(v))
		return b
	}
	for _, k := range sortedKeys(m) {
		val := m[k]
		switch k {
		case "values":
			b.Values = p.strList(at+".values", val)
		case "patterns":
			b.Patterns = p.strList(at+".patterns", val)
		case "defaults":
			d, ok := val.(bool)
			if !ok {
				p.errf("%s.defaults: want true or false, got %s", at, describe(val))
			}
			b.Defaults = d
		default:
			p.errf("%s.%s: unknown key (known: values, patterns, defaults)", at, k)
		}
	}
	return b
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", v)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}
