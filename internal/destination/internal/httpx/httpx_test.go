package httpx

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-3":                            0,
		"soon":                          0,
		"Mon, 01 Jan 2024 00:01:00 GMT": time.Minute,
		"Sun, 31 Dec 2023 23:00:00 GMT": 0, // in the past
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := RetryAfter(h, now); got != want {
			t.Errorf("RetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	if got := Excerpt([]byte("  a\n\tb  \x00c "), 100); got != "a b c" {
		t.Errorf("Excerpt = %q", got)
	}
	if got := Excerpt([]byte("ééé"), 3); got != "é…" {
		t.Errorf("Excerpt cut inside a rune: %q", got)
	}
}

func TestTransportError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var re *destination.RetryableError
	if err := TransportError(ctx, "x", context.Canceled); errors.As(err, &re) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := TransportError(context.Background(), "x", context.DeadlineExceeded); !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

func TestLimiter(t *testing.T) {
	var l *Limiter
	if l.Wait(context.Background()) != nil || NewLimiter(0, 1) != nil {
		t.Error("a nil limiter waits")
	}
	l = NewLimiter(100, 1)
	start := time.Now()
	for range 6 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 45*time.Millisecond {
		t.Errorf("6 waits at 100/s took %s, want >= 50ms", el)
	}
	l = NewLimiter(1, 1)
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait past the context's deadline: %v", err)
	}
}
