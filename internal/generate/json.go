package generate

import (
	"strconv"
	"unicode/utf8"
)

// The hot path builds every message by appending JSON text to a []byte: no reflection, no
// intermediate maps. These helpers produce JSON (RFC 8259) escaping, which differs from Go's
// strconv.Quote (no \x.., \a, \v; control characters as \u00XX).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string literal. Invalid UTF-8 becomes U+FFFD so a good line is
// always valid UTF-8; the deliberately bad lines are built elsewhere.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendKey appends `"k":` (k must not need escaping).
func appendKey(b []byte, k string) []byte {
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// appendKV appends `,"k":"v"` with v escaped.
func appendKV(b []byte, k, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

// appendMoney appends an amount in cents as a JSON number with two decimals (12.30).
func appendMoney(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	c := cents % 100
	return append(b, '.', byte('0'+c/10), byte('0'+c%10))
}

// appendUUID appends a version-4, RFC 4122 variant UUID built from 128 random bits.
func appendUUID(b []byte, hi, lo uint64, upper bool) []byte {
	hi = hi&^(0xf<<12) | 4<<12 // version 4 in bits 48..51 of the first 64 bits
	lo = lo&^(0x3<<62) | 0x2<<62
	digits := hexDigits
	if upper {
		digits = "0123456789ABCDEF"
	}
	var u [36]byte
	j := 0
	for i := 15; i >= 0; i-- { // hi, most significant nibble first
		u[j] = digits[(hi>>(uint(i)*4))&0xf]
		j++
		if j == 8 || j == 13 {
			u[j] = '-'
			j++
		}
	}
	u[j] = '-'
	j++
	for i := 15; i >= 0; i-- {
		u[j] = digits[(lo>>(uint(i)*4))&0xf]
		j++
		if j == 23 {
			u[j] = '-'
			j++
		}
	}
	return append(b, u[:]...)
}

// uuidString returns appendUUID as a string.
func uuidString(hi, lo uint64) string {
	var a [36]byte
	return string(appendUUID(a[:0], hi, lo, false))
}

// appendTime appends the UTC time ms (Unix milliseconds) as 2026-10-03T14:22:05.123Z.
func appendTime(b []byte, ms int64) []byte {
	secs := ms / 1000
	milli := ms % 1000
	if milli < 0 {
		milli += 1000
		secs--
	}
	days := secs / 86400
	sod := secs % 86400
	if sod < 0 {
		sod += 86400
		days--
	}
	y, m, d := civil(days)
	var t [24]byte
	t[0] = byte('0' + y/1000%10)
	t[1] = byte('0' + y/100%10)
	t[2] = byte('0' + y/10%10)
	t[3] = byte('0' + y%10)
	t[4] = '-'
	t[5] = byte('0' + m/10)
	t[6] = byte('0' + m%10)
	t[7] = '-'
	t[8] = byte('0' + d/10)
	t[9] = byte('0' + d%10)
	t[10] = 'T'
	h, mi, s := sod/3600, sod/60%60, sod%60
	t[11] = byte('0' + h/10)
	t[12] = byte('0' + h%10)
	t[13] = ':'
	t[14] = byte('0' + mi/10)
	t[15] = byte('0' + mi%10)
	t[16] = ':'
	t[17] = byte('0' + s/10)
	t[18] = byte('0' + s%10)
	t[19] = '.'
	t[20] = byte('0' + milli/100)
	t[21] = byte('0' + milli/10%10)
	t[22] = byte('0' + milli%10)
	t[23] = 'Z'
	return append(b, t[:]...)
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// splitmix64 is a fast, well-mixing 64-bit bijection used to derive independent seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mix derives a 64-bit value from a seed and two small integers.
func mix(seed uint64, a, b uint64) uint64 {
	return splitmix64(splitmix64(seed^splitmix64(a)) + b*0x9e3779b97f4a7c15)
}
