package destination

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

type nop struct{ spec Spec }

func (n nop) Spec() Spec { return n.spec }
func (n nop) Write(_ context.Context, b Batch) (Result, error) {
	return OKResult(len(b.Rows)), nil
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register(Spec{Name: "b"}, func(map[string]any) (Destination, error) { return nop{Spec{Name: "b"}}, nil })
	r.Register(Spec{Name: "a"}, func(cfg map[string]any) (Destination, error) {
		if cfg["x"] == nil {
			return nil, errors.New("x is required")
		}
		return nop{Spec{Name: "a"}}, nil
	})
	if got := strings.Join(r.Names(), ","); got != "a,b" {
		t.Errorf("Names = %s", got)
	}
	if _, err := r.New("a", nil); err == nil {
		t.Error("factory error not returned")
	}
	if d, err := r.New("b", nil); err != nil || d.Spec().Name != "b" {
		t.Errorf("New(b) = %v, %v", d, err)
	}
	if _, err := r.New("c", nil); err == nil || !strings.Contains(err.Error(), "[a b]") {
		t.Errorf("New(unknown) = %v, want the available types listed", err)
	}
	if _, ok := r.Spec("a"); !ok {
		t.Error("Spec(a) not found")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	r.Register(Spec{Name: "a"}, nil)
}

func TestOKResult(t *testing.T) {
	r := OKResult(3)
	if len(r.Rows) != 3 || r.Rows[2].Outcome != OK {
		t.Errorf("OKResult(3) = %+v", r)
	}
	if OK.String() != "ok" || Rejected.String() != "rejected" || Retryable.String() != "retryable" || Outcome(9).String() != "Outcome(9)" {
		t.Error("Outcome.String")
	}
}

func TestRetryableError(t *testing.T) {
	base := errors.New("HTTP 429")
	var err error = &RetryableError{Err: base, RetryAfter: time.Second}
	var re *RetryableError
	if !errors.As(err, &re) || !errors.Is(err, base) || err.Error() != "HTTP 429" {
		t.Error("RetryableError does not wrap")
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"x", "x"},
		{true, "true"},
		{int64(-3), "-3"},
		{42, "42"},
		{1.5, "1.5"},
		{1e21, "1000000000000000000000"},
		{0.1, "0.1"},
		{json.Number("12.50"), "12.50"},
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02T03:04:05Z"},
		{time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3600)), "2024-01-02T03:04:05.0000006+01:00"},
		{[]any{"a", int64(1)}, `["a",1]`},
		{map[string]any{"b": 1, "a": nil}, `{"a":null,"b":1}`},
	} {
		if got := FormatValue(tc.in); got != tc.want {
			t.Errorf("FormatValue(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
