package config

import "testing"

// A Reader keeps ${VAR} as written (dbt files are rendered later) and records problems with
// the same messages as Parse.
func TestReader(t *testing.T) {
	r := NewReader()
	root, ok := r.Parse("models/s.yml", []byte("a: ${NOT_SET}\nb: [1]\na: 2\n"))
	if !ok {
		t.Fatal(r.Err())
	}
	pairs, _ := r.Mapping("models/s.yml", "", root, nil)
	if got, _ := r.Str("models/s.yml", "a", pairs[0].Value); got != "${NOT_SET}" {
		t.Errorf("Str = %q, want ${NOT_SET} unexpanded", got)
	}
	r.Str("models/s.yml", "b", pairs[1].Value)
	want := "models/s.yml:2: b must be a single value, got a list\n" +
		`models/s.yml:3: key "a" appears twice in models/s.yml (first at line 1); remove one`
	if err := r.Err(); err == nil || err.Error() != want {
		t.Errorf("Err() =\n%v\nwant\n%s", err, want)
	}
}
