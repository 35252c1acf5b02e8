package conf

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
)

var spec = destination.Spec{Name: "demo", Fields: []destination.Field{
	{Name: "n"}, {Name: "f"}, {Name: "d"}, {Name: "b"}, {Name: "s", Required: true, Example: "x"},
	{Name: "key", Required: true, Secret: true},
}}

func TestValues(t *testing.T) {
	for _, v := range []any{3, int64(3), 3.0, json.Number("3"), "3", " 3 "} {
		r := New(spec, map[string]any{"n": v, "s": "x", "key": "k"})
		if got := r.Int("n", 0, 1, 10); got != 3 || r.Err() != nil {
			t.Errorf("Int(%#v) = %d, %v", v, got, r.Err())
		}
	}
	r := New(spec, map[string]any{"s": "x", "key": "k", "d": 90, "b": "true", "f": "0.5"})
	if d := r.Duration("d", 0, 0, time.Hour); d != 90*time.Second {
		t.Errorf("Duration = %s", d)
	}
	if !r.Bool("b", false) || r.Float("f", 0, 0, 1) != 0.5 || r.Int("n", 7, 0, 10) != 7 {
		t.Error("Bool, Float or an unset Int's default")
	}
	if r.Err() != nil {
		t.Error(r.Err())
	}
}

func TestErrors(t *testing.T) {
	r := New(spec, map[string]any{"n": 2.5, "s": "", "type": "demo", "nn": 1})
	r.Int("n", 1, 1, 10)
	r.String("s", "")
	r.String("key", "")
	err := r.Err()
	for _, want := range []string{
		`destination "demo" config: `,
		`field "n": must be a whole number from 1 to 10, got 2.5`,
		`field "s": required; set s: x in the sync's destination`,
		`field "key": required; set key: ${DEMO_KEY} in the sync's destination (a secret`,
		`field "nn": unknown field of destination "demo"; did you mean "n"?`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), `"type"`) {
		t.Errorf("type is reported as unknown: %v", err)
	}
}
