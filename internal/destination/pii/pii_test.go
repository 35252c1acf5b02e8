package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Digests pinned as literals, so a change to the hashing itself (not only to normalization)
// shows up.
func TestPinnedDigests(t *testing.T) {
	n, _ := New(Options{})
	for _, tc := range []struct {
		kind Kind
		in   string
		want string
	}{
		{Email, "  Test@Example.com ", "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"},
		{Phone, "+1 415-555-0134", "e4df23eae17fd7b23181d75ca8503ed89f92dc8e84c26f8c5aab970a950d48b3"},
		{FirstName, "John", "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a"},
	} {
		got, err := n.Hash(tc.kind, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Hash(%s, %q) = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		}
	}
	// The digest of the normalized phone, pinned too.
	if got := SHA256Hex("14155550134"); got != sum("14155550134") {
		t.Errorf("SHA256Hex disagrees with crypto/sha256: %s", got)
	}
	if got := SHA256Hex("test@example.com"); got != "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b" {
		t.Errorf("sha256(test@example.com) = %s", got)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		country string
		kind    Kind
		in      string
		want    string // "" with wantErr false: empty input
		wantErr bool
	}{
		// email
		{"", Email, "test@example.com", "test@example.com", false},
		{"", Email, "  Test@Example.COM\t\n", "test@example.com", false},
		{"", Email, "J.Doe+Ads@Gmail.com", "j.doe+ads@gmail.com", false}, // gmail dots and +tags kept
		{"", Email, "", "", false},
		{"", Email, "   ", "", false},
		{"", Email, "no-at-sign.example.com", "", true},
		{"", Email, "a@b", "", true},
		{"", Email, "a@@b.com", "", true},
		// phone, US default
		{"US", Phone, "+1 415-555-0134", "14155550134", false},
		{"US", Phone, "(415) 555 0134", "14155550134", false},
		{"US", Phone, "415.555.0134", "14155550134", false},
		{"US", Phone, "1-415-555-0134", "14155550134", false},
		{"US", Phone, "001 415 555 0134", "14155550134", false},
		{"US", Phone, "+44 7700 900123", "447700900123", false}, // international wins over the default
		{"US", Phone, "555 0134", "", true},                     // too short
		{"US", Phone, "(415) 555 0134 ext 12", "", true},        // extensions are not numbers
		{"US", Phone, "1-800-FLOWERS", "", true},
		{"US", Phone, "+1 015 555 0134", "", true}, // NANP area codes do not start with 0
		// GB
		{"GB", Phone, "07700 900123", "447700900123", false},
		{"GB", Phone, "+44 (0)7700 900123", "447700900123", false},
		{"GB", Phone, "+44 07700 900123", "447700900123", false},
		{"GB", Phone, "0044 7700 900123", "447700900123", false},
		{"GB", Phone, "020 7946 0958", "442079460958", false},
		// DE
		{"DE", Phone, "030 1234567", "49301234567", false},
		{"DE", Phone, "0151 23456789", "4915123456789", false},
		{"DE", Phone, "+49 (0)30 1234567", "49301234567", false},
		// names and places
		{"", FirstName, " John ", "john", false},
		{"", FirstName, "Mary-Ann", "maryann", false},
		{"", LastName, "O'Brien", "obrien", false},
		{"", LastName, "van der Berg", "vanderberg", false},
		{"", FirstName, "José", "josé", false},
		{"", FirstName, "Jose\u0301", "josé", false}, // decomposed accent composes to the same
		{"", FirstName, "Dr. J.R.R.", "drjrr", false},
		{"", FirstName, "!!!", "", true},
		{"", City, "Menlo Park", "menlopark", false},
		{"", City, "St. Louis", "stlouis", false},
		{"", City, "São Paulo", "sãopaulo", false},
		{"", State, "CA", "ca", false},
		{"", Zip, "94025-1234", "94025", false},
		{"", Zip, "SW1A 1AA", "sw1a1aa", false},
		{"", Country, "US", "us", false},
		{"", Country, "U.S.", "us", false},
		{"", Country, "USA", "", true},
	} {
		n, err := New(Options{DefaultCountry: tc.country})
		if err != nil {
			t.Fatal(err)
		}
		got, err := n.Normalize(tc.kind, tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("[%s] Normalize(%s, %q) = %q, %v; want %q (error: %v)", tc.country, tc.kind, tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Kind != tc.kind {
				t.Errorf("Normalize(%s, %q): error %v is not an *InvalidError of its kind", tc.kind, tc.in, err)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("Normalize(%s, %q): error %q repeats the value", tc.kind, tc.in, err)
			}
		}
		// Hash agrees with Normalize followed by crypto/sha256.
		h, herr := n.Hash(tc.kind, tc.in)
		switch {
		case tc.wantErr:
			if herr == nil {
				t.Errorf("Hash(%s, %q) = %q, want an error", tc.kind, tc.in, h)
			}
		case tc.want == "":
			if h != "" || herr != nil {
				t.Errorf("Hash(%s, %q) = %q, %v; want \"\" (empty values are not hashed)", tc.kind, tc.in, h, herr)
			}
		default:
			if h != sum(tc.want) || herr != nil {
				t.Errorf("Hash(%s, %q) = %q, %v; want sha256(%q) = %s", tc.kind, tc.in, h, herr, tc.want, sum(tc.want))
			}
		}
	}
}

func TestAlreadyHashedIsNotHashedAgain(t *testing.T) {
	n, _ := New(Options{})
	d := sum("test@example.com")
	for _, k := range Kinds {
		for _, in := range []string{d, strings.ToUpper(d), "  " + d + " "} {
			got, err := n.Hash(k, in)
			if err != nil || got != d {
				t.Errorf("Hash(%s, %q) = %q, %v; want the digest unchanged", k, in, got, err)
			}
		}
	}
	if got := HashNormalized(d); got != d {
		t.Errorf("HashNormalized(digest) = %q", got)
	}
	if IsHashed(d[:63]) || IsHashed(d+"0") || IsHashed(strings.Replace(d, d[:1], "g", 1)) {
		t.Error("IsHashed accepts something that is not 64 hex digits")
	}
	if HashNormalized("") != "" {
		t.Error(`HashNormalized("") is not ""`)
	}
}

func TestPhonePlus(t *testing.T) {
	n, _ := New(Options{DefaultCountry: "gb", PhonePlus: true})
	got, err := n.Normalize(Phone, "07700 900123")
	if err != nil || got != "+447700900123" {
		t.Errorf("got %q, %v", got, err)
	}
	h, _ := n.Hash(Phone, "07700 900123")
	if h != sum("+447700900123") {
		t.Errorf("hash of +E.164: %s", h)
	}
}

func TestNormalizePhoneFunc(t *testing.T) {
	if got, err := NormalizePhone("(415) 555 0134", ""); err != nil || got != "14155550134" {
		t.Errorf("NormalizePhone US default = %q, %v", got, err)
	}
	if _, err := NormalizePhone("0123", "XX"); err == nil || !strings.Contains(err.Error(), "GB") {
		t.Errorf("unknown country: %v; want an error listing the known ones", err)
	}
}

func TestUnknownCountry(t *testing.T) {
	_, err := New(Options{DefaultCountry: "Atlantis"})
	if err == nil || !strings.Contains(err.Error(), "US") {
		t.Errorf("New with an unknown country: %v", err)
	}
}

func TestGmailWithoutDots(t *testing.T) {
	for in, want := range map[string]string{
		"j.doe@gmail.com":      "jdoe@gmail.com",
		"j.doe@googlemail.com": "jdoe@googlemail.com",
		"j.doe@example.com":    "j.doe@example.com",
		"j.d.oe+x@gmail.com":   "jdoe+x@gmail.com",
	} {
		if got := GmailWithoutDots(in); got != want {
			t.Errorf("GmailWithoutDots(%q) = %q, want %q", in, got, want)
		}
	}
}
