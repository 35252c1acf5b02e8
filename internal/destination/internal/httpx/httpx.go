// Package httpx holds what the HTTP destinations share: Retry-After parsing, how a failed
// request maps to a retryable or final error, response excerpts for rejection reasons, and a
// request rate limiter.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cdp-dev/cdp/internal/destination"
)

// MaxResponse is the most of a response body the destinations read.
const MaxResponse = 1 << 20

// RetryAfter parses a Retry-After header: delay-seconds or an HTTP date. Zero when absent,
// unparseable or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ReadBody reads at most MaxResponse bytes of a response body and closes it.
func ReadBody(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	// Drain a little more so the connection can be reused; give up on huge bodies.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	return b
}

// Excerpt returns the start of a response body as one line of at most n bytes, for reasons
// and error messages.
func Excerpt(b []byte, n int) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(b))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !utfStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }

// TransportError classifies the error of a request that got no response. When ctx (the
// Write's context) was cancelled the run is stopping: the error is returned as is, wrapped,
// so errors.Is(err, context.Canceled) holds and nothing retries it. Anything else (a timeout,
// a refused or reset connection, a deadline) is a RetryableError.
//
// The URL is left out of the message (the caller's what names the endpoint): a query string
// may hold a token.
func TransportError(ctx context.Context, what string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return &destination.RetryableError{Err: fmt.Errorf("%s: %w", what, err)}
}

// StatusError makes the RetryableError for a response that asks to be retried (429, 5xx),
// honouring its Retry-After.
func StatusError(what string, resp *http.Response, body []byte, now time.Time) *destination.RetryableError {
	msg := fmt.Sprintf("%s: HTTP %d", what, resp.StatusCode)
	if ex := Excerpt(body, 200); ex != "" {
		msg += ": " + ex
	}
	return &destination.RetryableError{Err: errors.New(msg), RetryAfter: RetryAfter(resp.Header, now)}
}

// Retryable reports whether an HTTP status asks to be retried: 408, 429 and 5xx.
func Retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// Limiter spaces requests to at most rate per second with bursts of up to burst requests. A
// nil Limiter or one with a rate of 0 never waits. It is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tokens   float64
	last     time.Time
}

// NewLimiter returns a limiter of rate requests per second (0: unlimited).
func NewLimiter(rate float64, burst int) *Limiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / rate), burst: burst, tokens: float64(burst)}
}

// Wait blocks until a request may start or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() {
		l.tokens += float64(now.Sub(l.last)) / float64(l.interval)
		if l.tokens > float64(l.burst) {
			l.tokens = float64(l.burst)
		}
	}
	l.last = now
	l.tokens--
	var wait time.Duration
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens * float64(l.interval))
	}
	l.mu.Unlock()
	if wait == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		// Give the token back: the request will not be made.
		l.mu.Lock()
		l.tokens++
		l.mu.Unlock()
		return ctx.Err()
	}
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
