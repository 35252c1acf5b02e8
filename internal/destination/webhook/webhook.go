// Package webhook is the webhook destination: it POSTs each batch as JSON to a URL.
//
//	destination:
//	  type: webhook
//	  url: https://hooks.example.com/cdp
//	  secret: ${WEBHOOK_SECRET}     # signs every request
//	  headers: {X-Team: growth}     # optional, added to every request
//	  batch_size: 500               # rows per request, 1 to 10000
//	  concurrency: 4                # requests in flight
//	  rate_limit: 0                 # requests per second, 0 = unlimited
//	  timeout: 30s                  # per request
//
// The body of a request:
//
//	{"sync": "vip_users", "batch_id": "…", "rows": [{"key": "u1", "action": "add", "fields": {…}}]}
//
// with action add, change or remove, and the headers
//
//	Content-Type: application/json
//	Idempotency-Key: <batch_id>          the same rows always carry the same key: a receiver
//	                                     that remembers keys applies a resent batch once
//	X-CDP-Signature: sha256=<hex>        HMAC-SHA256 of the exact body bytes with the secret
//
// The response decides each row's outcome:
//
//   - 2xx: every row is acknowledged, except those the body lists as
//     {"rejected": [{"key": "u1", "reason": "…"}]}, which are rejected with that reason.
//   - 429, 503 and other 5xx, 408, timeouts and network errors: the whole batch is retryable
//     (destination.RetryableError), with the wait of the Retry-After header (seconds or an HTTP
//     date) when there is one.
//   - other 4xx: every row is rejected, with the status and the start of the body as reason.
//   - 3xx: redirects are not followed (the signature is for this URL); the Write fails with an
//     error saying to configure the final URL.
//
// A row whose fields cannot be encoded as JSON (a NaN) is rejected without being sent. A
// cancelled context fails the Write with an error wrapping context.Canceled, never retryable.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/internal/conf"
	"github.com/cdp-dev/cdp/internal/destination/internal/httpx"
)

// Header names the destination sets.
const (
	SignatureHeader   = "X-CDP-Signature"
	IdempotencyHeader = "Idempotency-Key"
)

// Defaults and limits of the configurable spec values.
const (
	DefaultBatchSize   = 500
	MaxBatchSize       = 10000
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	DefaultTimeout     = 30 * time.Second
)

// Spec is the webhook destination type's spec: its BatchSize is the most any webhook accepts
// (MaxBatchSize), so a sync's own batch_size is checked against that; a configured
// destination's Spec reports its own batch size (batch_size, default 500), concurrency, rate
// limit and timeout.
var Spec = destination.Spec{
	Name: "webhook",
	Doc:  "POSTs batches of changed rows as signed JSON to an HTTP endpoint.",
	Fields: []destination.Field{
		{Name: "url", Required: true, Doc: "the endpoint (http or https) that receives the batches", Example: "https://hooks.example.com/cdp"},
		{Name: "secret", Required: true, Secret: true, Doc: "key of the HMAC-SHA256 signature in the X-CDP-Signature header", Example: "${WEBHOOK_SECRET}"},
		{Name: "headers", Doc: "extra headers for every request (values may use ${ENV})", Example: "{X-Team: growth}"},
		{Name: "batch_size", Doc: "rows per request, 1 to 10000", Default: "500", Example: "1000"},
		{Name: "concurrency", Doc: "requests in flight at once, 1 to 64", Default: "4", Example: "2"},
		{Name: "rate_limit", Doc: "most requests per second; 0 is unlimited", Default: "0", Example: "10"},
		{Name: "timeout", Doc: "how long one request may take", Default: "30s", Example: "1m"},
	},
	Modes:       []string{"mirror", "upsert", "insert", "audience"},
	BatchSize:   MaxBatchSize,
	Concurrency: DefaultConcurrency,
	Timeout:     DefaultTimeout,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a webhook destination.
type Config struct {
	URL         *url.URL
	Secret      string
	Headers     map[string]string
	BatchSize   int
	Concurrency int
	RateLimit   float64
	Timeout     time.Duration
}

// reservedHeaders are set by the destination and may not be configured.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", SignatureHeader, IdempotencyHeader}

// ParseConfig validates a webhook destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{
		URL:         r.URL("url"),
		Secret:      r.String("secret", ""),
		Headers:     r.StringMap("headers"),
		BatchSize:   r.Int("batch_size", DefaultBatchSize, 1, MaxBatchSize),
		Concurrency: r.Int("concurrency", DefaultConcurrency, 1, MaxConcurrency),
		RateLimit:   r.Float("rate_limit", 0, 0, 10000),
		Timeout:     r.Duration("timeout", DefaultTimeout, time.Second, 10*time.Minute),
	}
	for name := range c.Headers {
		if strings.TrimSpace(name) == "" || strings.ContainsAny(name, " :\r\n") {
			r.Failf("headers", "%q is not a valid header name", name)
			continue
		}
		for _, h := range reservedHeaders {
			if strings.EqualFold(name, h) {
				r.Failf("headers", "%s is set by cdp; remove it from headers", h)
			}
		}
	}
	return c, r.Err()
}

// Dest is a webhook destination. It is safe for concurrent use.
type Dest struct {
	cfg     Config
	client  *http.Client
	limiter *httpx.Limiter
	now     func() time.Time
}

var _ destination.Destination = (*Dest)(nil)

// New makes a webhook destination from its config.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(c, nil), nil
}

// NewWithConfig makes a webhook destination from a parsed config and an HTTP client (nil for
// a default one). Redirects are never followed.
func NewWithConfig(c Config, client *http.Client) *Dest {
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport}
	} else {
		cp := *client
		client = &cp
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Dest{cfg: c, client: client, limiter: httpx.NewLimiter(c.RateLimit, 1), now: time.Now}
}

// Spec returns the destination's spec with its configured limits.
func (d *Dest) Spec() destination.Spec {
	s := Spec
	s.BatchSize = d.cfg.BatchSize
	s.Concurrency = d.cfg.Concurrency
	s.RateLimit = d.cfg.RateLimit
	s.Timeout = d.cfg.Timeout
	return s
}

// Payload is the body of a request.
type Payload struct {
	Sync    string       `json:"sync"`
	BatchID string       `json:"batch_id"`
	Rows    []PayloadRow `json:"rows"`
}

// PayloadRow is one row of a request.
type PayloadRow struct {
	Key    string             `json:"key"`
	Action destination.Action `json:"action"`
	Fields map[string]any     `json:"fields"`
}

// Response is what a receiver may answer with a 2xx status to reject some rows.
type Response struct {
	Rejected []struct {
		Key    string `json:"key"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// Sign returns the X-CDP-Signature value of body: "sha256=" and the hex HMAC-SHA256 of body
// with secret. Receivers compare it with hmac.Equal.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// endpoint is the URL without its query, for messages (a query may hold a token).
func (d *Dest) endpoint() string {
	u := *d.cfg.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// Write sends the batch in one request and maps the response to per-row outcomes.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	what := "webhook: POST " + d.endpoint()
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	res := destination.OKResult(len(b.Rows))
	if len(b.Rows) == 0 {
		return res, nil
	}
	var body bytes.Buffer
	body.WriteString(`{"sync":`)
	enc, _ := json.Marshal(b.Sync)
	body.Write(enc)
	var rows bytes.Buffer
	sent := make([]int, 0, len(b.Rows)) // indexes of the rows in the body
	for i, row := range b.Rows {
		e, err := json.Marshal(PayloadRow{Key: row.Key, Action: row.Action, Fields: row.Fields})
		if err != nil {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: "cannot encode the row's fields as JSON: " + err.Error()}
			continue
		}
		if len(sent) > 0 {
			rows.WriteByte(',')
		}
		rows.Write(e)
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return res, nil
	}
	id := b.ID
	if id == "" {
		sum := sha256.Sum256(append([]byte(b.Sync+"\x00"), rows.Bytes()...))
		id = hex.EncodeToString(sum[:16])
	}
	body.WriteString(`,"batch_id":`)
	enc, _ = json.Marshal(id)
	body.Write(enc)
	body.WriteString(`,"rows":[`)
	body.Write(rows.Bytes())
	body.WriteString("]}")

	if err := d.limiter.Wait(ctx); err != nil {
		return destination.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, d.cfg.URL.String(), bytes.NewReader(body.Bytes()))
	if err != nil {
		return destination.Result{}, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("User-Agent", "cdp")
	for k, v := range d.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, id)
	req.Header.Set(SignatureHeader, Sign(d.cfg.Secret, body.Bytes()))

	resp, err := d.client.Do(req)
	if err != nil {
		return destination.Result{}, httpx.TransportError(ctx, what, err)
	}
	respBody := httpx.ReadBody(resp)
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		var r Response
		if len(bytes.TrimSpace(respBody)) > 0 && json.Unmarshal(respBody, &r) == nil && len(r.Rejected) > 0 {
			byKey := map[string][]int{}
			for _, i := range sent {
				byKey[b.Rows[i].Key] = append(byKey[b.Rows[i].Key], i)
			}
			for _, rej := range r.Rejected {
				reason := rej.Reason
				if reason == "" {
					reason = "rejected by the receiver (no reason given)"
				}
				for _, i := range byKey[rej.Key] {
					res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
				}
			}
		}
		return res, nil
	case httpx.Retryable(code):
		return destination.Result{}, httpx.StatusError(what, resp, respBody, d.now())
	case code >= 300 && code < 400:
		return destination.Result{}, fmt.Errorf("%s: HTTP %d redirect to %q, which cdp does not follow; set url to the final address", what, code, resp.Header.Get("Location"))
	default:
		reason := fmt.Sprintf("HTTP %d", code)
		if ex := httpx.Excerpt(respBody, 200); ex != "" {
			reason += ": " + ex
		}
		for _, i := range sent {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
		}
		return res, nil
	}
}

// Verify checks a request's signature against secret; for receivers written in Go and tests.
func Verify(secret string, body []byte, signature string) error {
	if !strings.HasPrefix(signature, "sha256=") {
		return errors.New("signature does not start with sha256=")
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, body))) {
		return errors.New("signature does not match the body")
	}
	return nil
}
