package identity

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cdp-dev/cdp/internal/warehouse"
)

// normalized runs the normalization SQL of id over the inputs and returns the values ("" for
// NULL: not an identifier) and whether each is blocked under rules.
func normalized(t *testing.T, wh warehouse.Warehouse, rules *Rules, id Identifier, inputs []string) (values []string, blocked []bool) {
	t.Helper()
	d := wh.Dialect()
	var rows []string
	for i, in := range inputs {
		rows = append(rows, "SELECT "+itoa(int64(i))+" AS i, CAST("+d.QuoteString(in)+" AS VARCHAR) AS raw")
	}
	src := "(" + strings.Join(rows, " UNION ALL ") + ") v"
	sql := "SELECT COALESCE(value, ''), " + blockedExpr(d, rules, "LOWER(COALESCE(value, TRIM(raw)))") + " FROM (" +
		normalizeSelect(d, id, rules.DefaultCountry, src, []string{"i", "raw"}) + ") n ORDER BY i"
	r, err := wh.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	defer r.Close()
	for r.Next() {
		var v string
		var b bool
		if err := r.Scan(&v, &b); err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
		blocked = append(blocked, b)
	}
	return values, blocked
}

func defaultRules(t *testing.T) *Rules {
	r, err := ParseRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNormalizeEmail(t *testing.T) {
	wh := openWH(t)
	cases := []struct{ in, want string }{
		{"jane@shop.io", "jane@shop.io"},
		{" Jane.Doe12@Gmail.COM ", "jane.doe12@gmail.com"},
		{"\tJANE@SHOP.IO\n", "jane@shop.io"},
		{"jane+promo@mail.shop.co.uk", "jane+promo@mail.shop.co.uk"},
		{"jane", ""},
		{"jane@", ""},
		{"@shop.io", ""},
		{"jane@shop", ""},
		{"jane doe@shop.io", ""},
		{"jane@@shop.io", ""},
		{"jane@shop.i", ""},
		{"", ""},
		{"   ", ""},
	}
	var in []string
	for _, c := range cases {
		in = append(in, c.in)
	}
	got, _ := normalized(t, wh, defaultRules(t), Identifier{Type: "email", Normalize: NormEmail}, in)
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("email %q -> %q, want %q", c.in, got[i], c.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	wh := openWH(t)
	cases := []struct{ country, in, want string }{
		// US default: the formats people type.
		{"US", "+1 415-555-0134", "+14155550134"},
		{"US", "(415) 555 0134", "+14155550134"},
		{"US", "4155550134", "+14155550134"},
		{"US", "+14155550134", "+14155550134"},
		{"US", "415.555.0134", "+14155550134"},
		{"US", "1 (415) 555-0134", "+14155550134"},
		{"US", "001 415 555 0134", "+14155550134"},
		{"US", " +1 (415) 555-0134 ", "+14155550134"},
		// International numbers are read as such whatever the default country.
		{"US", "+44 7700 900123", "+447700900123"},
		{"US", "+44 (0)7700 900123", "+447700900123"},
		{"US", "+44 07700 900123", "+447700900123"},
		{"US", "0044 7700 900 123", "+447700900123"},
		{"US", "+49 151 23456789", "+4915123456789"},
		{"US", "+33 6 12 34 56 78", "+33612345678"},
		{"US", "+81 90 1234 5678", "+819012345678"},
		{"US", "+7 912 345 67 89", "+79123456789"}, // no plan known: generic check
		// National numbers of another country are not valid US numbers.
		{"US", "07700 900123", ""},
		{"US", "0612345678", ""},
		// Invalid.
		{"US", "555-0134", ""},
		{"US", "(015) 555 0134", ""},      // area code starts with 0
		{"US", "415 155 0134", ""},        // exchange starts with 1
		{"US", "+1 415 555 01345", ""},    // too long for NANP
		{"US", "call me", ""},             // letters
		{"US", "415-555-0134 ext 12", ""}, // extension
		{"US", "+44 123", ""},
		{"US", "0000000000", ""},
		{"US", "", ""},
		// GB default: trunk 0 dropped.
		{"GB", "07700 900123", "+447700900123"},
		{"GB", "07700900123", "+447700900123"},
		{"GB", "+44 (0)7700 900123", "+447700900123"},
		{"GB", "+1 415-555-0134", "+14155550134"},
		{"GB", "020 7946 0958", "+442079460958"},
		{"GB", "0770090012", "+44770090012"}, // 9 digits after the trunk: valid length for GB
		{"GB", "077009001", ""},
		// DE and FR defaults.
		{"DE", "0151 23456789", "+4915123456789"},
		{"FR", "06 12 34 56 78", "+33612345678"},
	}
	byCountry := map[string][]int{}
	for i, c := range cases {
		byCountry[c.country] = append(byCountry[c.country], i)
	}
	for country, idx := range byCountry {
		var in []string
		for _, i := range idx {
			in = append(in, cases[i].in)
		}
		r := defaultRules(t)
		r.DefaultCountry = country
		got, _ := normalized(t, wh, r, Identifier{Type: "phone", Normalize: NormPhone}, in)
		for j, i := range idx {
			if got[j] != cases[i].want {
				t.Errorf("%s phone %q -> %q, want %q", country, cases[i].in, got[j], cases[i].want)
			}
		}
	}
}

func TestNormalizeOthers(t *testing.T) {
	wh := openWH(t)
	in := []string{" AbC ", "abc", "", "  "}
	for _, c := range []struct {
		norm string
		want []string
	}{
		{NormTrim, []string{"AbC", "abc", "", ""}},
		{NormLower, []string{"abc", "abc", "", ""}},
		{NormNone, []string{" AbC ", "abc", "", "  "}},
	} {
		got, _ := normalized(t, wh, defaultRules(t), Identifier{Type: "x", Normalize: c.norm}, in)
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.norm, diff)
		}
	}
}

func TestBlocklistDefaults(t *testing.T) {
	wh := openWH(t)
	blocked := []string{
		"null", "NULL", " undefined ", "None", "nil", "NaN", "n/a", "N/A", "-1", "0", "000000", "-",
		"00000000-0000-0000-0000-000000000000", "anonymous", "Anonymous", "unknown", "test", "[object Object]",
		"guest", "true", "false",
	}
	allowed := []string{"u1", "usr_10000001", "0a", "1", "anonymous1", "f5d5b0a4-5b6c-4c3b-9c6e-0d6f3f0b6f5e", "testuser", "10"}
	got, isBlocked := normalized(t, wh, defaultRules(t), Identifier{Type: "user_id", Normalize: NormTrim}, append(append([]string{}, blocked...), allowed...))
	for i, v := range blocked {
		if !isBlocked[i] {
			t.Errorf("user id %q (normalized %q) is not blocked", v, got[i])
		}
	}
	for i, v := range allowed {
		if isBlocked[len(blocked)+i] {
			t.Errorf("user id %q is blocked", v)
		}
	}

	emails := []struct {
		in      string
		blocked bool
	}{
		{"test@test.com", true},
		{" TEST@test.com ", true},
		{"test@example.com", true},
		{"anyone@example.org", true},
		{"email@email.com", true},
		{"a@a.com", true},
		{"noemail@shop.io", true},
		{"no-email@gmail.com", true},
		{"noreply@shop.io", true},
		{"jane@shop.test", true},
		{"null", true}, // blocked before it is found invalid
		{"jane@shop.io", false},
		{"contest@shop.io", false},
		{"a@shop.io", false},
	}
	var in []string
	for _, e := range emails {
		in = append(in, e.in)
	}
	_, isBlocked = normalized(t, wh, defaultRules(t), Identifier{Type: "email", Normalize: NormEmail}, in)
	for i, e := range emails {
		if isBlocked[i] != e.blocked {
			t.Errorf("email %q blocked = %v, want %v", e.in, isBlocked[i], e.blocked)
		}
	}
}

func TestBlocklistCustom(t *testing.T) {
	wh := openWH(t)
	r, err := ParseRules(map[string]any{"blocklist": map[string]any{
		"values":   []any{"Kiosk-1", "shared"},
		"patterns": []any{`^guest-.*$`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in := []string{"kiosk-1", "KIOSK-1", "shared", "guest-42", "GUEST-7", "a-guest-42", "null", "u1"}
	want := []bool{true, true, true, true, true, false, true, false}
	_, got := normalized(t, wh, r, Identifier{Type: "user_id", Normalize: NormTrim}, in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
	// Without the defaults, only the model's own entries.
	r.Blocklist.Defaults = false
	_, got = normalized(t, wh, r, Identifier{Type: "user_id", Normalize: NormTrim}, in)
	want = []bool{true, true, true, true, true, false, false, false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("blocked without defaults (-want +got):\n%s", diff)
	}
}
