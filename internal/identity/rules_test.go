package identity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRulesDefaults(t *testing.T) {
	r, err := ParseRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The default identifiers are those whose column the observations have.
	if err := r.Resolve([]string{"message_id", "timestamp", "anonymous_id", "USER_ID", "email"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range r.Identifiers {
		got = append(got, id.Type+"/"+id.Normalize+"/"+itoa(int64(id.Limit)))
	}
	if diff := cmp.Diff([]string{"user_id/trim/1", "email/email/5", "anonymous_id/trim/100"}, got); diff != "" {
		t.Errorf("identifiers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"user_id", "email", "anonymous_id"}, r.Priority); diff != "" {
		t.Errorf("priority (-want +got):\n%s", diff)
	}
	if r.MaxGroupSize != 10000 || r.MaxRounds != 40 || r.DefaultCountry != "US" || !r.Blocklist.Defaults {
		t.Errorf("defaults: %+v", r)
	}
}

// The root project's identity_map.yml spells the defaults out, with a second anonymous_id rule.
func TestParseRulesFull(t *testing.T) {
	r, err := ParseRules(map[string]any{
		"event_id": "message_id", "timestamp": "timestamp", "default_country": "gb",
		"identifiers": []any{
			map[string]any{"type": "crm_id", "column": "upper(crm)", "normalize": "trim", "limit": 1},
			map[string]any{"type": "email", "column": "email", "normalize": "email", "limit": 5},
			map[string]any{"type": "anonymous_id", "column": "anonymous_id", "limit": 100},
			map[string]any{"type": "anonymous_id", "column": "previous_id"},
			map[string]any{"type": "phone", "country": "de"},
		},
		"priority":       []any{"email", "crm_id"},
		"blocklist":      map[string]any{"values": []any{"X"}, "patterns": []any{"^guest-"}, "defaults": true},
		"max_group_size": 50, "max_rounds": 10.0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Resolve([]string{"message_id", "timestamp", "crm", "email", "anonymous_id", "previous_id", "phone"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"email", "crm_id", "phone", "anonymous_id"}, r.Priority); diff != "" {
		t.Errorf("priority: listed first, then the default order, then the rest (-want +got):\n%s", diff)
	}
	if r.Limit("anonymous_id") != 100 || r.Identifiers[3].Limit != 100 || r.Limit("phone") != 3 || r.Limit("crm_id") != 1 {
		t.Errorf("limits: %+v", r.Identifiers)
	}
	if r.DefaultCountry != "GB" || r.Identifiers[4].Country != "DE" || r.MaxRounds != 10 || r.MaxGroupSize != 50 {
		t.Errorf("settings: %+v", r)
	}
	// Round trip through the metrics' JSON, as explain reads it.
	back, err := rulesFromJSON(r.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.JSON(), back.JSON()); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestParseRulesErrors(t *testing.T) {
	cols := []string{"message_id", "timestamp", "user_id", "email", "anonymous_id"}
	for _, c := range []struct {
		name  string
		rules any
		want  []string
	}{
		{"not a mapping", "user_id", []string{"want a mapping"}},
		{"typo", map[string]any{"identifers": []any{}}, []string{`identity.identifers: unknown setting; did you mean "identifiers"?`}},
		{"identifiers not a list", map[string]any{"identifiers": "email"}, []string{"identity.identifiers: want a list"}},
		{"empty identifiers", map[string]any{"identifiers": []any{}}, []string{"the list is empty"}},
		{"bad normalizer", map[string]any{"identifiers": []any{map[string]any{"type": "email", "normalize": "mail"}}},
			[]string{`identity.identifiers[0].normalize: unknown normalizer "mail"; want one of email, phone, trim, lower, none`}},
		{"bad type name", map[string]any{"identifiers": []any{map[string]any{"type": "CRM ID", "column": "crm"}}}, []string{`"CRM ID" is not a type name`}},
		{"missing type", map[string]any{"identifiers": []any{map[string]any{"column": "crm"}}}, []string{"identity.identifiers[0]: type is missing"}},
		{"unknown key", map[string]any{"identifiers": []any{map[string]any{"type": "email", "limt": 2}}}, []string{`identity.identifiers[0].limt: unknown key; did you mean "limit"?`}},
		{"negative limit", map[string]any{"identifiers": []any{map[string]any{"type": "email", "limit": -1}}}, []string{"want 0 (no limit) or more"}},
		{"fractional limit", map[string]any{"identifiers": []any{map[string]any{"type": "email", "limit": 1.5}}}, []string{"want a whole number, got 1.5"}},
		{"zero rounds", map[string]any{"max_rounds": 0}, []string{"identity.max_rounds: want a number of at least 1"}},
		{"bad blocklist", map[string]any{"blocklist": map[string]any{"value": []any{"x"}}}, []string{"identity.blocklist.value: unknown key"}},
		{"country on email", map[string]any{"identifiers": []any{map[string]any{"type": "email", "country": "US"}}}, []string{"only phone rules take a country"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRules(c.rules)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	for _, c := range []struct {
		name  string
		rules map[string]any
		cols  []string
		want  string
	}{
		{"no default columns", nil, []string{"message_id", "timestamp", "x"}, "none of the default identifier columns"},
		{"missing column", map[string]any{"identifiers": []any{map[string]any{"type": "crm_id", "column": "crm"}}}, cols, `identity.identifiers[0].column: the observations have no column "crm"`},
		{"missing event id", map[string]any{"event_id": "id"}, cols, `identity.event_id: the observations have no column "id"`},
		{"conflicting limits", map[string]any{"identifiers": []any{map[string]any{"type": "email", "limit": 1}, map[string]any{"type": "email", "column": "user_id", "limit": 2}}}, cols,
			"type email has limit 1 in identifiers[0] and 2 here"},
		{"unknown priority", map[string]any{"priority": []any{"crm_id"}}, cols, `identity.priority[0]: "crm_id" is not the type of any identifier`},
		{"bad pattern", map[string]any{"blocklist": map[string]any{"patterns": []any{"("}}}, cols, "identity.blocklist.patterns[0]: error parsing regexp"},
		{"unknown country", map[string]any{"default_country": "XX"}, cols, `identity.default_country: unknown country "XX"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRules(c.rules)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Resolve(c.cols)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// A model whose rules are wrong fails its build, saying what to fix.
func TestBadRulesFailTheBuild(t *testing.T) {
	wh := openWH(t)
	loadObs(t, wh, nil)
	res := tryBuild(t, wh, identityModel("idm", "select * from main.obs;", map[string]any{"identifiers": []any{map[string]any{"type": "crm_id"}}}))
	if res.Status == "success" || !strings.Contains(res.Error, `identity.identifiers[0].column: the observations have no column "crm_id"`) {
		t.Errorf("%s: %s", res.Status, res.Error)
	}
	// An empty set of observations is fine.
	res = build(t, wh, identityModel("idm", "select * from main.obs -- trailing comment", nil))
	if res.Rows != 0 {
		t.Errorf("%d rows from no observations", res.Rows)
	}
}
