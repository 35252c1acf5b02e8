// Package phoneplan is the numbering plan cdp knows: per default country, the calling code, the
// national trunk prefix E.164 drops, and the shape of a valid number. Identity resolution
// (normalizing phones in SQL) and the ad destinations (normalizing before hashing) share it, so a
// phone normalizes to the same E.164 number in the identity graph and at the destination.
package phoneplan

import "sort"

// Country is one country's numbering plan.
type Country struct {
	CallingCode string // "44"
	Trunk       string // national prefix E.164 drops ("0"), "" when there is none
	E164        string // regexp of the digits of a valid E.164 number, calling code included
}

// Countries are the default_country values cdp knows. Numbers of other countries are accepted
// in international form (+CC...) with a generic check.
var Countries = map[string]Country{
	"US": {CallingCode: "1", E164: `1[2-9][0-9]{2}[2-9][0-9]{6}`},
	"CA": {CallingCode: "1", E164: `1[2-9][0-9]{2}[2-9][0-9]{6}`},
	"GB": {CallingCode: "44", Trunk: "0", E164: `44[1-9][0-9]{8,9}`},
	"DE": {CallingCode: "49", Trunk: "0", E164: `49[1-9][0-9]{5,13}`},
	"FR": {CallingCode: "33", Trunk: "0", E164: `33[1-9][0-9]{8}`},
	"ES": {CallingCode: "34", E164: `34[5-9][0-9]{8}`},
	"IT": {CallingCode: "39", E164: `39[0-9]{6,11}`},
	"NL": {CallingCode: "31", Trunk: "0", E164: `31[1-9][0-9]{8}`},
	"BE": {CallingCode: "32", Trunk: "0", E164: `32[1-9][0-9]{7,8}`},
	"CH": {CallingCode: "41", Trunk: "0", E164: `41[1-9][0-9]{8}`},
	"AT": {CallingCode: "43", Trunk: "0", E164: `43[1-9][0-9]{3,12}`},
	"IE": {CallingCode: "353", Trunk: "0", E164: `353[1-9][0-9]{6,8}`},
	"SE": {CallingCode: "46", Trunk: "0", E164: `46[1-9][0-9]{6,9}`},
	"DK": {CallingCode: "45", E164: `45[2-9][0-9]{7}`},
	"NO": {CallingCode: "47", E164: `47[2-9][0-9]{7}`},
	"PL": {CallingCode: "48", E164: `48[1-9][0-9]{8}`},
	"PT": {CallingCode: "351", E164: `351[2-9][0-9]{8}`},
	"AU": {CallingCode: "61", Trunk: "0", E164: `61[1-9][0-9]{8}`},
	"NZ": {CallingCode: "64", Trunk: "0", E164: `64[2-9][0-9]{7,9}`},
	"IN": {CallingCode: "91", Trunk: "0", E164: `91[1-9][0-9]{9}`},
	"JP": {CallingCode: "81", Trunk: "0", E164: `81[1-9][0-9]{8,9}`},
	"BR": {CallingCode: "55", Trunk: "0", E164: `55[1-9]{2}[0-9]{8,9}`},
	"MX": {CallingCode: "52", E164: `52[1-9][0-9]{9}`},
	"SG": {CallingCode: "65", E164: `65[3689][0-9]{7}`},
	"ZA": {CallingCode: "27", Trunk: "0", E164: `27[1-9][0-9]{8}`},
}

// Codes lists the known countries, sorted.
func Codes() []string {
	out := make([]string, 0, len(Countries))
	for c := range Countries {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
