// Package pii normalizes and hashes personal data the way ad platforms match it (Meta custom
// audiences and Conversions API, Google Customer Match, TikTok, Snap...): one implementation
// that every ad destination shares, so the same person hashes to the same digest everywhere.
//
// A value is normalized, then hashed with SHA-256 and written as 64 lower-case hex digits:
//
//   - email: surrounding whitespace trimmed, lower-cased (Unicode NFC first); it must look like
//     an address. Gmail dots and +tags are NOT removed: "j.doe+ads@gmail.com" stays as written,
//     which is what Meta, TikTok and Snap expect. Google Customer Match asks, in addition, for
//     the dots of gmail.com and googlemail.com local parts to be removed; a Google destination
//     does that itself (GmailWithoutDots) before hashing.
//   - phone: E.164, written as digits only ("14155550134"; Meta's form), or with the leading
//     "+" when Options.PhonePlus is set (Google's form). The rules are the identity package's,
//     so the identity graph and ad destinations agree on a number: only digits, spaces and the
//     characters "+-./()" are allowed (letters and extensions make the number invalid); "(0)" is
//     dropped; +CC or 00CC is international (a trunk 0 right after the code is dropped);
//     anything else is national in the default country (US/CA: 10 digits, or 11 starting with
//     1; countries with a trunk prefix drop it: "07700 900123" in GB is 447700900123). The
//     result has 8 to 15 digits and matches its country's numbering plan when it is known.
//   - first name, last name, city, state: lower-cased, and everything that is not a letter
//     removed (spaces, punctuation, digits, symbols): "Mary-Ann" is "maryann", "São Paulo" is
//     "sãopaulo". Meta asks for "a-z, no punctuation, special characters in UTF-8", so letters
//     outside a-z are kept, in Unicode NFC so that composed and decomposed accents agree.
//   - zip: lower-cased, spaces removed, and only the part before a "-" kept ("94025-1234" is
//     "94025"), as Meta asks for US codes.
//   - country: ISO 3166-1 alpha-2, lower-cased ("US" is "us").
//
// A value that is already a SHA-256 digest (64 hex digits) is passed through lower-cased and
// never hashed twice, so a warehouse column that already holds hashes can be synced as is. An
// empty value (after trimming) normalizes and hashes to "" and is never hashed: the digest of
// the empty string would match nobody and only waste a match key.
package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/cdp-dev/cdp/internal/phoneplan"
)

// Kind is the kind of a personal value.
type Kind string

const (
	Email     Kind = "email"
	Phone     Kind = "phone"
	FirstName Kind = "first_name"
	LastName  Kind = "last_name"
	City      Kind = "city"
	State     Kind = "state"
	Zip       Kind = "zip"
	Country   Kind = "country"
)

// Kinds lists the kinds the package knows.
var Kinds = []Kind{Email, Phone, FirstName, LastName, City, State, Zip, Country}

// InvalidError says why a value cannot be normalized. It never contains the value itself, so
// it can be logged and stored as a rejection reason.
type InvalidError struct {
	Kind   Kind
	Reason string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Kind, e.Reason) }

func invalid(k Kind, format string, args ...any) error {
	return &InvalidError{Kind: k, Reason: fmt.Sprintf(format, args...)}
}

// Options configure a Normalizer.
type Options struct {
	// DefaultCountry is the ISO 3166-1 alpha-2 code of the country whose national numbers
	// are written without a calling code ("US" when empty). Countries reports the ones known.
	DefaultCountry string
	// PhonePlus writes phones as "+14155550134" instead of "14155550134".
	PhonePlus bool
}

// Normalizer normalizes and hashes values with fixed options. It is safe for concurrent use.
type Normalizer struct {
	opts    Options
	country country
}

// New returns a Normalizer, or an error naming the known countries when DefaultCountry is not
// one of them.
func New(opts Options) (*Normalizer, error) {
	if opts.DefaultCountry == "" {
		opts.DefaultCountry = "US"
	}
	opts.DefaultCountry = strings.ToUpper(strings.TrimSpace(opts.DefaultCountry))
	c, ok := countries[opts.DefaultCountry]
	if !ok {
		return nil, fmt.Errorf("unknown default country %q: use one of %s", opts.DefaultCountry, strings.Join(Countries(), ", "))
	}
	return &Normalizer{opts: opts, country: c}, nil
}

// Normalize returns the normalized form of v, "" when v is empty, or an *InvalidError. An
// already hashed value is returned lower-cased.
func (n *Normalizer) Normalize(k Kind, v string) (string, error) {
	t := strings.TrimSpace(v)
	if t == "" {
		return "", nil
	}
	if IsHashed(t) {
		return strings.ToLower(t), nil
	}
	switch k {
	case Email:
		return NormalizeEmail(t)
	case Phone:
		p, err := normalizePhone(t, n.country)
		if err != nil || !n.opts.PhonePlus {
			return p, err
		}
		return "+" + p, nil
	case FirstName, LastName, City, State:
		s := lettersOnly(t)
		if s == "" {
			return "", invalid(k, "no letters")
		}
		return s, nil
	case Zip:
		return NormalizeZip(t), nil
	case Country:
		s := lettersOnly(t)
		if len(s) != 2 || s[0] > 'z' || s[1] > 'z' {
			return "", invalid(k, "not a two-letter ISO 3166-1 country code")
		}
		return s, nil
	}
	return "", fmt.Errorf("pii: unknown kind %q", k)
}

// Hash normalizes v and returns its SHA-256 hex digest; "" for an empty value; an already
// hashed value as is (lower-cased).
func (n *Normalizer) Hash(k Kind, v string) (string, error) {
	s, err := n.Normalize(k, v)
	if err != nil || s == "" {
		return "", err
	}
	return HashNormalized(s), nil
}

// HashNormalized returns the SHA-256 hex digest of an already normalized value; a value that
// is already a digest is returned lower-cased, and "" stays "".
func HashNormalized(s string) string {
	if s == "" {
		return ""
	}
	if IsHashed(s) {
		return strings.ToLower(s)
	}
	return SHA256Hex(s)
}

// SHA256Hex is the lower-case hex SHA-256 digest of s, unconditionally.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// IsHashed reports whether s is a SHA-256 hex digest: exactly 64 hex digits, either case.
func IsHashed(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// emailPattern is the identity package's: what a trimmed, lower-cased address must look like.
var emailPattern = regexp.MustCompile(`^[^@\s"(),:;<>\[\]\\]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$`)

// NormalizeEmail trims and lower-cases an email address and checks that it looks like one.
// Dots and +tags are kept (see the package doc).
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	if e == "" {
		return "", nil
	}
	if !emailPattern.MatchString(e) {
		return "", invalid(Email, "not an email address (want name@domain.tld)")
	}
	return e, nil
}

// GmailWithoutDots removes the dots of the local part of a normalized gmail.com or
// googlemail.com address, as Google Customer Match asks ("j.doe@gmail.com" is
// "jdoe@gmail.com"); other addresses are returned as is.
func GmailWithoutDots(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || (domain != "gmail.com" && domain != "googlemail.com") {
		return email
	}
	return strings.ReplaceAll(local, ".", "") + "@" + domain
}

// NormalizePhone returns the E.164 digits (no "+") of a phone number, reading national
// numbers as defaultCountry's ("US" when empty).
func NormalizePhone(s, defaultCountry string) (string, error) {
	if defaultCountry == "" {
		defaultCountry = "US"
	}
	c, ok := countries[strings.ToUpper(defaultCountry)]
	if !ok {
		return "", fmt.Errorf("unknown default country %q: use one of %s", defaultCountry, strings.Join(Countries(), ", "))
	}
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return normalizePhone(strings.TrimSpace(s), c)
}

// NormalizeName lower-cases a first or last name, city or state and removes all but letters.
func NormalizeName(s string) string { return lettersOnly(s) }

// NormalizeZip lower-cases a postal code, removes spaces and keeps the part before a "-".
func NormalizeZip(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s, _, _ = strings.Cut(s, "-")
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func lettersOnly(s string) string {
	s = norm.NFC.String(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) {
			return r
		}
		return -1
	}, s)
}

// country describes the phone numbers of one country; the table is the identity package's.
type country struct {
	cc    string // calling code
	trunk string // national prefix E.164 drops ("0"), "" when there is none
	plan  string // the digits of a valid E.164 number (calling code included), a regexp
}

// countries is the numbering plan shared with identity resolution.
var countries = func() map[string]country {
	m := make(map[string]country, len(phoneplan.Countries))
	for code, c := range phoneplan.Countries {
		m[code] = country{cc: c.CallingCode, trunk: c.Trunk, plan: c.E164}
	}
	return m
}()

// Countries lists the default countries the package knows.
func Countries() []string { return phoneplan.Codes() }

var (
	phoneChars = regexp.MustCompile(`^[+]?[0-9 ().\-/]+$`)
	e164       = regexp.MustCompile(`^[1-9][0-9]{7,14}$`)
	trunkCCs   []string       // calling codes whose numbers drop a trunk 0, longest first
	knownCC    *regexp.Regexp // a calling code with a known plan
	plans      *regexp.Regexp // any known plan
)

func init() {
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
	var plan []string
	for _, cc := range ccs {
		if byCC[cc].trunk == "0" {
			trunkCCs = append(trunkCCs, cc)
		}
		plan = append(plan, byCC[cc].plan)
	}
	knownCC = regexp.MustCompile("^(" + strings.Join(ccs, "|") + ")")
	plans = regexp.MustCompile("^(" + strings.Join(plan, "|") + ")$")
}

func normalizePhone(s string, c country) (string, error) {
	if !phoneChars.MatchString(s) {
		return "", invalid(Phone, "only digits, spaces and + - . / ( ) are allowed (no letters or extensions)")
	}
	s = strings.ReplaceAll(s, "(0)", "")
	intl := strings.HasPrefix(s, "+")
	dg := strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
	if !intl && strings.HasPrefix(dg, "00") {
		intl, dg = true, dg[2:]
	}
	var e string
	switch {
	case intl:
		e = dg
		for _, cc := range trunkCCs {
			if strings.HasPrefix(dg, cc+"0") {
				e = cc + dg[len(cc)+1:]
				break
			}
		}
	case c.cc == "1":
		switch {
		case len(dg) == 11 && dg[0] == '1':
			e = dg
		case len(dg) == 10:
			e = "1" + dg
		default:
			return "", invalid(Phone, "%d digits: a national number of the default country (+1) has 10", len(dg))
		}
	case c.trunk != "" && strings.HasPrefix(dg, c.trunk):
		e = c.cc + dg[len(c.trunk):]
	default:
		e = c.cc + dg
	}
	if !e164.MatchString(e) {
		return "", invalid(Phone, "E.164 numbers have 8 to 15 digits and no leading 0 (got %d digits); write international numbers as +<country code> <number>", len(e))
	}
	if knownCC.MatchString(e) && !plans.MatchString(e) {
		return "", invalid(Phone, "not a valid number for its country code")
	}
	return e, nil
}
