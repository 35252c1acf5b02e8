package identity

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cdp-dev/cdp/internal/phoneplan"
	"github.com/cdp-dev/cdp/internal/warehouse"
)

// country is what phone normalization needs to know about a country.
type country struct {
	cc string // calling code
	// trunk is the national prefix dialled before the number inside the country ("0"), which
	// E.164 drops; "" when there is none.
	trunk string
	// e164 matches the digits of a valid E.164 number of the country (calling code included).
	e164 string
}

// countries are the default_country values cdp knows (the shared numbering plan).
var countries = func() map[string]country {
	m := make(map[string]country, len(phoneplan.Countries))
	for code, c := range phoneplan.Countries {
		m[code] = country{cc: c.CallingCode, trunk: c.Trunk, e164: c.E164}
	}
	return m
}()

func countryCodes() []string { return phoneplan.Codes() }

// phonePatterns are, over all known countries: the calling codes whose numbers drop a trunk 0
// (so "+44 07700 900123" loses the 0), the calling codes with a known numbering plan, and the
// numbering plans themselves. Longer codes come first so an alternation tries them first.
func phonePatterns() (trunkCCs, knownCCs, plans string) {
	byCC := map[string]country{}
	for _, c := range countries {
		byCC[c.cc] = c
	}
	ccs := make([]string, 0, len(byCC))
	for cc := range byCC {
		ccs = append(ccs, cc)
	}
	sort.Slice(ccs, func(i, j int) bool {
		if len(ccs[i]) != len(ccs[j]) {
			return len(ccs[i]) > len(ccs[j])
		}
		return ccs[i] < ccs[j]
	})
	var trunk, known, plan []string
	for _, cc := range ccs {
		c := byCC[cc]
		if c.trunk == "0" {
			trunk = append(trunk, cc)
		}
		known = append(known, cc)
		plan = append(plan, c.e164)
	}
	return strings.Join(trunk, "|"), strings.Join(known, "|"), strings.Join(plan, "|")
}

// emailPattern is what a normalized (trimmed, lower-cased) email address must look like.
const emailPattern = `^[^@\s"(),:;<>\[\]\\]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$`

// normalizeSelect renders a SELECT over src that adds the normalized value to each of its rows:
// src has a column raw (text); the result has src's columns listed in keep plus value (NULL
// when raw is not a valid identifier for the rule).
func normalizeSelect(d warehouse.Dialect, id Identifier, defaultCountry, src string, keep []string) string {
	cols := strings.Join(keep, ", ")
	if cols != "" {
		cols += ", "
	}
	switch id.Normalize {
	case NormEmail:
		// Surrounding whitespace of any kind (tabs, newlines) goes, not just spaces.
		t := d.RegexpReplace("raw", `^\s+|\s+$`, "")
		return "SELECT " + cols + "CASE WHEN " + d.RegexpContains("lower("+t+")", emailPattern) + " THEN lower(" + t + ") END AS value FROM " + src
	case NormPhone:
		c := id.Country
		if c == "" {
			c = defaultCountry
		}
		return phoneSelect(d, countries[c], src, cols)
	case NormLower:
		return "SELECT " + cols + "NULLIF(lower(trim(raw)), '') AS value FROM " + src
	case NormNone:
		return "SELECT " + cols + "NULLIF(raw, '') AS value FROM " + src
	default:
		return "SELECT " + cols + "NULLIF(trim(raw), '') AS value FROM " + src
	}
}

// phoneSelect normalizes phone numbers to E.164 ("+14155550134"):
//
//   - Only digits, spaces, + - . / ( ) are allowed; anything else (letters, "ext") is invalid.
//   - "(0)" is dropped: "+44 (0)7700 900123" is written that way in the UK.
//   - International form starts with + or 00; the digits that follow are the number, except a
//     trunk 0 right after a calling code that has one ("+44 07700..." is "+447700...").
//   - Otherwise the number is national, in the default country: US/CA take 10 digits or 11
//     starting with 1; countries with a trunk prefix drop it ("07700 900123" in GB is
//     "+447700900123"); the calling code goes in front.
//   - The result must have 8 to 15 digits, not start with 0, and match the numbering plan of
//     its calling code when cdp knows it (NANP: area code and exchange do not start with 0/1).
func phoneSelect(d warehouse.Dialect, c country, src, cols string) string {
	trunkCCs, knownCCs, plans := phonePatterns()
	dropTrunk := func(digits string) string {
		return d.RegexpReplace(digits, "^("+trunkCCs+")0", `\1`)
	}
	var national string
	switch {
	case c.cc == "1":
		national = "CASE WHEN LENGTH(dg) = 11 AND SUBSTR(dg, 1, 1) = '1' THEN dg WHEN LENGTH(dg) = 10 THEN '1' || dg END"
	case c.trunk != "":
		national = "CASE WHEN SUBSTR(dg, 1, " + strconv.Itoa(len(c.trunk)) + ") = '" + c.trunk + "' THEN '" + c.cc + "' || SUBSTR(dg, " + strconv.Itoa(len(c.trunk)+1) + ") ELSE '" + c.cc + "' || dg END"
	default:
		national = "'" + c.cc + "' || dg"
	}
	mid := "SELECT " + cols + d.RegexpContains("pt", `^[+]?[0-9 ().\-/]+$`) + " AS pok, " +
		"CASE WHEN SUBSTR(pt, 1, 1) = '+' THEN 1 WHEN SUBSTR(pt, 1, 2) = '00' THEN 2 ELSE 0 END AS form, " +
		d.RegexpReplace(d.RegexpReplace("pt", `\(0\)`, ""), `[^0-9]`, "") + " AS dg " +
		"FROM (SELECT " + cols + "trim(raw) AS pt FROM " + src + ") p0"
	e := "SELECT " + cols + "CASE WHEN pok THEN CASE form WHEN 1 THEN " + dropTrunk("dg") +
		" WHEN 2 THEN " + dropTrunk("SUBSTR(dg, 3)") + " ELSE " + national + " END END AS e FROM (" + mid + ") p1"
	valid := d.RegexpContains("e", `^[1-9][0-9]{7,14}$`) + " AND (NOT " + d.RegexpContains("e", "^("+knownCCs+")") +
		" OR " + d.RegexpContains("e", "^("+plans+")$") + ")"
	return "SELECT " + cols + "CASE WHEN " + valid + " THEN '+' || e END AS value FROM (" + e + ") p2"
}

// blockedExpr is true when key (the lower-cased value) is on the blocklist.
func blockedExpr(d warehouse.Dialect, r *Rules, key string) string {
	var parts []string
	if vals := r.blockedValues(); len(vals) > 0 {
		lits := make([]string, len(vals))
		for i, v := range vals {
			lits[i] = d.QuoteString(v)
		}
		parts = append(parts, key+" IN ("+strings.Join(lits, ", ")+")")
	}
	if pats := r.blockedPatterns(); len(pats) > 0 {
		alt := make([]string, len(pats))
		for i, p := range pats {
			alt[i] = "(?:" + p + ")"
		}
		parts = append(parts, d.RegexpContains(key, strings.Join(alt, "|")))
	}
	if len(parts) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}
