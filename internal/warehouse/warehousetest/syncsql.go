package warehousetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testJSONObjectText: the text is valid JSON with the keys in order and typed values, and the
// same values give the same text (it feeds change-detection hashes).
func (s *suite) testJSONObjectText(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	expr := d.JSONObjectText(
		[]string{"z", "a", "odd \"key\"", "n", "f", "b", "null"},
		[]string{"'text ''q'' ü'", "CAST(42 AS " + d.Type("integer") + ")", "'x'", "CAST(1.5 AS " + d.Type("number") + ")",
			"CAST(NULL AS " + d.Type("string") + ")", "TRUE", "NULL"},
	)
	got := queryStrings(t, w, "SELECT "+expr)
	if len(got) != 1 {
		t.Fatalf("%d rows", len(got))
	}
	text := got[0]
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatalf("JSONObjectText gave %q, not JSON: %v", text, err)
	}
	want := map[string]any{"z": "text 'q' ü", "a": 42.0, "odd \"key\"": "x", "n": 1.5, "f": nil, "b": true, "null": nil}
	if diff := cmp.Diff(want, obj); diff != "" {
		t.Errorf("JSONObjectText values (-want +got):\n%s", diff)
	}
	if i, j := strings.Index(text, `"z"`), strings.Index(text, `"a"`); i < 0 || j < 0 || i > j {
		t.Errorf("keys not in the given order: %s", text)
	}
	if again := queryStrings(t, w, "SELECT "+expr); !cmp.Equal(got, again) {
		t.Errorf("same values, different text: %q and %q", got, again)
	}
	// Over a column, with its digest.
	q := "SELECT " + d.MD5Hex(d.JSONObjectText([]string{"v"}, []string{"v"})) + " FROM " +
		selectRows("r", []string{"i", "v"}, [][]string{{"1", "'k'"}, {"2", "'k'"}, {"3", "'other'"}}) + " ORDER BY i"
	h := queryStrings(t, w, q)
	if len(h) != 3 || h[0] != h[1] || h[0] == h[2] {
		t.Errorf("digests over a column: %q", h)
	}
}

// testStringRows: every value comes back as written, quotes, commas, JSON and unicode
// included, with columns zipped by index, also for thousands of rows.
func (s *suite) testStringRows(t *testing.T) {
	w := s.open(t)
	d := w.Dialect()
	keys := []string{"a", "it's", `{"x": [1, "y"]}`, "ü✓ \\ \n\t", ""}
	vals := []string{"1", "2", "3", "4", "5"}
	got := queryStrings(t, w, "SELECT k || '=' || v FROM ("+d.StringRows([]string{"k", "v"}, [][]string{keys, vals})+") AS r ORDER BY v")
	var want []string
	for i := range keys {
		want = append(want, keys[i]+"="+vals[i])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("StringRows (-want +got):\n%s", diff)
	}
	// Separator and control characters, and a lone empty value.
	odd := []string{"a\x1eb", "\x1f\x1e", "\x00"[1:] + "z"}
	got = queryStrings(t, w, "SELECT k FROM ("+d.StringRows([]string{"k", "i"}, [][]string{odd, {"1", "2", "3"}})+") AS r ORDER BY i")
	if diff := cmp.Diff(odd, got); diff != "" {
		t.Errorf("StringRows with control characters (-want +got):\n%s", diff)
	}
	got = queryStrings(t, w, "SELECT '<' || k || '>' FROM ("+d.StringRows([]string{"k"}, [][]string{{""}})+") AS r")
	if diff := cmp.Diff([]string{"<>"}, got); diff != "" {
		t.Errorf("StringRows of one empty value (-want +got):\n%s", diff)
	}
	const n = 5000
	many := make([]string, n)
	for i := range many {
		many[i] = fmt.Sprintf("key-%d", i)
	}
	if c := queryInt(t, w, "SELECT count(DISTINCT k) FROM ("+d.StringRows([]string{"k"}, [][]string{many})+") AS r"); c != n {
		t.Errorf("StringRows of %d rows gave %d distinct", n, c)
	}
}
