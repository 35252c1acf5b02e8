// Package conf reads and validates a destination's config map (already ${ENV}-expanded) against
// its Spec: required fields, types, ranges, unknown keys, secrets left unexpanded. Every problem
// is collected, so one error lists them all, each saying which field and how to fix it.
package conf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
)

// Reader reads one destination's config. Call its getters, then Err.
type Reader struct {
	spec   destination.Spec
	cfg    map[string]any
	fields map[string]destination.Field
	errs   []error
}

// New returns a Reader for cfg, a config of the destination type spec describes.
func New(spec destination.Spec, cfg map[string]any) *Reader {
	r := &Reader{spec: spec, cfg: cfg, fields: map[string]destination.Field{}}
	for _, f := range spec.Fields {
		r.fields[f.Name] = f
	}
	return r
}

// Failf records a problem with field name; the message should say how to fix it.
func (r *Reader) Failf(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("field %q: %s", name, fmt.Sprintf(format, args...)))
}

// Err returns every problem found, including unknown fields, or nil.
func (r *Reader) Err() error {
	var unknown []string
	for k := range r.cfg {
		if _, ok := r.fields[k]; !ok && k != "type" {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	errs := r.errs
	for _, k := range unknown {
		known := make([]string, 0, len(r.fields))
		for n := range r.fields {
			known = append(known, n)
		}
		sort.Strings(known)
		msg := fmt.Sprintf("field %q: unknown field of destination %q", k, r.spec.Name)
		if s := closest(k, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		msg += " (fields: " + strings.Join(known, ", ") + ")"
		errs = append(errs, errors.New(msg))
	}
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return fmt.Errorf("destination %q config: %s", r.spec.Name, strings.Join(lines, "; "))
}

var unexpanded = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// raw returns the value of name and whether it is set (present and not nil or empty text).
// A required field that is not set is reported here.
func (r *Reader) raw(name string) (any, bool) {
	f, declared := r.fields[name]
	if !declared {
		panic("conf: field " + name + " not declared in the spec of " + r.spec.Name)
	}
	v, ok := r.cfg[name]
	if s, isStr := v.(string); isStr {
		if m := unexpanded.FindStringSubmatch(s); m != nil {
			r.Failf(name, "environment variable %s is not set; export it before running cdp", m[1])
			return nil, false
		}
		if strings.TrimSpace(s) == "" {
			ok = false
		}
	}
	if v == nil {
		ok = false
	}
	if !ok && f.Required {
		r.Failf(name, "required; %s", r.howToSet(f))
	}
	return v, ok
}

func (r *Reader) howToSet(f destination.Field) string {
	ex := f.Example
	if ex == "" {
		ex = "..."
	}
	if f.Secret && !strings.HasPrefix(ex, "${") {
		ex = "${" + strings.ToUpper(r.spec.Name+"_"+f.Name) + "}"
	}
	s := fmt.Sprintf("set %s: %s in the sync's destination", f.Name, ex)
	if f.Secret {
		s += " (a secret: reference an environment variable, never the value itself)"
	}
	return s
}

// String returns a text field, or def when it is not set.
func (r *Reader) String(name, def string) string {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case string:
		return x
	case bool, int, int64, float64, json.Number:
		return destination.FormatValue(x)
	}
	r.Failf(name, "must be text, got %s; %s", describe(v), r.howToSet(r.fields[name]))
	return def
}

// Token returns a credential sent as an HTTP Bearer token, or "" when it is not set. A value
// pasted with its "Bearer " prefix is an error: the destination adds the prefix itself. noun
// names the credential in the message ("token", "key").
func (r *Reader) Token(name, noun string) string {
	v := r.String(name, "")
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "bearer ") {
		r.Failf(name, "give the %s alone, without \"Bearer \"", noun)
	}
	return v
}

// OneOf returns a text field that must be one of allowed (compared case-insensitively and
// returned lower-cased), or def when it is not set.
func (r *Reader) OneOf(name, def string, allowed ...string) string {
	s := strings.ToLower(strings.TrimSpace(r.String(name, def)))
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	r.Failf(name, "must be one of %s, got %q", strings.Join(allowed, ", "), s)
	return def
}

// Int returns a whole-number field in [lo, hi], or def when it is not set. Text holding a
// number is accepted, since ${ENV} expansion yields text.
func (r *Reader) Int(name string, def, lo, hi int) int {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, ok := toFloat(v)
	if !ok || n != math.Trunc(n) || n < float64(lo) || n > float64(hi) {
		r.Failf(name, "must be a whole number from %d to %d, got %s; for example %s: %d", lo, hi, describe(v), name, def)
		return def
	}
	return int(n)
}

// Float returns a number field in [lo, hi], or def when it is not set.
func (r *Reader) Float(name string, def, lo, hi float64) float64 {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, ok := toFloat(v)
	if !ok || math.IsNaN(n) || n < lo || n > hi {
		r.Failf(name, "must be a number from %g to %g, got %s", lo, hi, describe(v))
		return def
	}
	return n
}

// Duration returns a duration field, written as Go durations ("30s", "1m30s") or a number of
// seconds, in [lo, hi], or def when it is not set.
func (r *Reader) Duration(name string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	var d time.Duration
	if s, isStr := v.(string); isStr {
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(s)); err != nil {
			if n, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
				d, err = time.Duration(n*float64(time.Second)), nil
			}
		}
		if err != nil {
			r.Failf(name, "must be a duration such as 30s or 2m, got %q", s)
			return def
		}
	} else if n, isNum := toFloat(v); isNum {
		d = time.Duration(n * float64(time.Second))
	} else {
		r.Failf(name, "must be a duration such as 30s or 2m, got %s", describe(v))
		return def
	}
	if d < lo || d > hi {
		r.Failf(name, "must be from %s to %s, got %s", lo, hi, d)
		return def
	}
	return d
}

// Bool returns a true/false field, or def when it is not set.
func (r *Reader) Bool(name string, def bool) bool {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	switch x := v.(type) {
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b
		}
	}
	r.Failf(name, "must be true or false, got %s", describe(v))
	return def
}

// StringMap returns a map of text to text (HTTP headers), nil when not set. Numbers and
// booleans are accepted as values and written as text.
func (r *Reader) StringMap(name string) map[string]string {
	v, ok := r.raw(name)
	if !ok {
		return nil
	}
	out := map[string]string{}
	add := func(k string, val any) {
		switch x := val.(type) {
		case string:
			if m := unexpanded.FindStringSubmatch(x); m != nil {
				r.Failf(name, "%s: environment variable %s is not set; export it before running cdp", k, m[1])
				return
			}
			out[k] = x
		case bool, int, int64, float64, json.Number:
			out[k] = destination.FormatValue(x)
		default:
			r.Failf(name, "%s: must be text, got %s", k, describe(val))
		}
	}
	switch m := v.(type) {
	case map[string]any:
		for k, val := range m {
			add(k, val)
		}
	case map[string]string:
		for k, val := range m {
			add(k, val)
		}
	case map[any]any:
		for k, val := range m {
			ks, isStr := k.(string)
			if !isStr {
				r.Failf(name, "keys must be text, got %s", describe(k))
				continue
			}
			add(ks, val)
		}
	default:
		r.Failf(name, "must be a map of names to values, such as {X-Team: growth}, got %s", describe(v))
		return nil
	}
	return out
}

// URL returns an http or https URL field, nil when not set.
func (r *Reader) URL(name string) *url.URL {
	s := r.String(name, "")
	if s == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Failf(name, "must be an http:// or https:// URL, got %q", s)
		return nil
	}
	return u
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case map[string]any, map[any]any, map[string]string:
		return "a map"
	case []any:
		return "a list"
	default:
		return fmt.Sprint(x)
	}
}

// closest returns the candidate within edit distance 2 of s, or that s is a prefix of (or
// the other way round), or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	s = strings.ToLower(s)
	for _, c := range candidates {
		d := distance(s, c)
		if len(s) >= 3 && (strings.HasPrefix(c, s) || strings.HasPrefix(s, c)) {
			d = min(d, 2)
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
