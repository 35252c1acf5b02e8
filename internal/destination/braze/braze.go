// Package braze is the Braze destination: it sets user attributes with POST /users/track.
//
//	destination:
//	  type: braze
//	  api_key: ${BRAZE_API_KEY}                     # REST API key with users.track permission
//	  rest_endpoint: https://rest.iad-01.braze.com  # your instance's REST endpoint
//
// Modes upsert, insert and mirror: every add and change row becomes one object of the request's
// "attributes" array, {"external_id": <the row's external_id field, else its key>, ...fields}.
// Braze creates the user when the external_id is new, so insert behaves like upsert.
//
// A remove sets the row's mapped fields to null, which makes Braze unset those custom
// attributes. users/track cannot delete an attribute otherwise, and deleting the user is a
// different endpoint (/users/delete) that this destination does not call. In upsert and insert
// modes cdp sends a remove only for a profile that withdrew the sync's consent purpose, and it
// is applied the same way: what cdp sent for the purpose is taken back.
//
// A request holds at most 75 attribute objects (Spec.BatchSize); a larger batch is sent in
// several requests. Outcomes: a 201/200 with an "errors" array rejects the objects it names by
// index (with the error's type) and acknowledges the rest; 429 is retryable after Retry-After or
// X-RateLimit-Reset (1s when neither is given); 5xx and transport errors are retryable; 400
// rejects every row of the request with Braze's message; 401, 403 and 404 fail the Write: they
// are configuration problems (api_key, rest_endpoint), not bad rows. Setting attributes is
// idempotent, so a resent batch is harmless.
package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/internal/conf"
	"github.com/cdp-dev/cdp/internal/destination/internal/httpx"
)

// MaxAttributes is the most attribute objects Braze takes in one /users/track request.
const MaxAttributes = 75

// Spec is the Braze destination's spec.
var Spec = destination.Spec{
	Name: "braze",
	Doc:  "Sets Braze user attributes with POST /users/track (75 users per request).",
	Fields: []destination.Field{
		{Name: "api_key", Required: true, Secret: true, Doc: "REST API key with the users.track permission, sent as a Bearer token", Example: "${BRAZE_API_KEY}"},
		{Name: "rest_endpoint", Required: true, Doc: "the REST endpoint of your Braze instance", Example: "https://rest.iad-01.braze.com"},
		{Name: "timeout", Doc: "how long one request may take", Default: "30s", Example: "1m"},
	},
	Modes:       []string{"upsert", "mirror", "insert"},
	BatchSize:   MaxAttributes,
	Concurrency: 4,
	Timeout:     2 * time.Minute,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a Braze destination.
type Config struct {
	APIKey       string
	RESTEndpoint *url.URL
	Timeout      time.Duration
}

// ParseConfig validates a Braze destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{
		APIKey:       strings.TrimSpace(r.Token("api_key", "key")),
		RESTEndpoint: r.URL("rest_endpoint"),
		Timeout:      r.Duration("timeout", 30*time.Second, time.Second, 10*time.Minute),
	}
	return c, r.Err()
}

// Dest is a Braze destination. It is safe for concurrent use.
type Dest struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
}

var _ destination.Destination = (*Dest)(nil)

// New makes a Braze destination from its config.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(c, nil), nil
}

// NewWithConfig makes a Braze destination from a parsed config and an HTTP client (nil for a
// default one).
func NewWithConfig(c Config, client *http.Client) *Dest {
	if client == nil {
		client = &http.Client{}
	}
	return &Dest{cfg: c, client: client, now: time.Now}
}

// Spec returns the destination's spec.
func (d *Dest) Spec() destination.Spec { return Spec }

type trackResponse struct {
	Message string `json:"message"`
	Errors  []struct {
		Type       string `json:"type"`
		InputArray string `json:"input_array"`
		Index      *int   `json:"index"`
	} `json:"errors"`
}

// Write sends the batch's rows as attribute objects, at most MaxAttributes per request.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("braze: %w", err)
	}
	switch b.Mode {
	case "upsert", "mirror", "insert":
	default:
		return destination.Result{}, fmt.Errorf("braze: mode %q not supported (supported: upsert, mirror, insert)", b.Mode)
	}
	res := destination.OKResult(len(b.Rows))
	var objs []map[string]any
	var idx []int // index into b.Rows of each object
	for i, r := range b.Rows {
		objs = append(objs, attributes(r))
		idx = append(idx, i)
	}
	for start := 0; start < len(objs); start += MaxAttributes {
		end := min(start+MaxAttributes, len(objs))
		if err := d.track(ctx, objs[start:end], idx[start:end], res.Rows); err != nil {
			return destination.Result{}, err
		}
	}
	return res, nil
}

// attributes makes the attribute object of a row; a remove nulls the row's fields.
func attributes(r destination.Row) map[string]any {
	o := make(map[string]any, len(r.Fields)+1)
	for k, v := range r.Fields {
		if r.Action == destination.Remove && k != "external_id" {
			v = nil
		}
		o[k] = v
	}
	id := r.Key
	if v, ok := r.Fields["external_id"]; ok && v != nil && destination.FormatValue(v) != "" {
		id = destination.FormatValue(v)
	}
	if id != "" {
		o["external_id"] = id
	} else {
		delete(o, "external_id")
	}
	return o
}

// track sends one request of objs and records the outcome of rows idx in out.
func (d *Dest) track(ctx context.Context, objs []map[string]any, idx []int, out []destination.RowResult) error {
	const what = "braze POST /users/track"
	body, err := json.Marshal(map[string]any{"attributes": objs})
	if err != nil {
		return fmt.Errorf("braze: encoding attributes: %w", err)
	}
	u := d.cfg.RESTEndpoint.JoinPath("users", "track")
	rctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+d.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return httpx.TransportError(ctx, what, err)
	}
	rb := httpx.ReadBody(resp)
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		re := httpx.StatusError(what, resp, rb, d.now())
		if re.RetryAfter == 0 {
			re.RetryAfter = rateLimitReset(resp.Header, d.now())
		}
		if re.RetryAfter == 0 {
			re.RetryAfter = time.Second
		}
		return re
	case httpx.Retryable(code):
		return httpx.StatusError(what, resp, rb, d.now())
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d: %s; check api_key (a REST API key with the users.track permission)", what, code, httpx.Excerpt(rb, 200))
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: HTTP 404: %s; check rest_endpoint", what, httpx.Excerpt(rb, 200))
	case code == http.StatusBadRequest:
		var tr trackResponse
		reason := httpx.Excerpt(rb, 300)
		if json.Unmarshal(rb, &tr) == nil && tr.Message != "" {
			reason = tr.Message
		}
		for _, i := range idx {
			out[i] = destination.RowResult{Outcome: destination.Rejected, Reason: "HTTP 400: " + reason}
		}
		return nil
	case code == http.StatusOK || code == http.StatusCreated:
		var tr trackResponse
		if err := json.Unmarshal(rb, &tr); err != nil {
			return &destination.RetryableError{Err: fmt.Errorf("%s: HTTP %d with an unreadable body: %s", what, code, httpx.Excerpt(rb, 200))}
		}
		for _, e := range tr.Errors {
			if e.InputArray != "" && e.InputArray != "attributes" {
				continue
			}
			if e.Index == nil || *e.Index < 0 || *e.Index >= len(idx) {
				continue
			}
			out[idx[*e.Index]] = destination.RowResult{Outcome: destination.Rejected, Reason: e.Type}
		}
		return nil
	default:
		return errors.New(what + ": unexpected HTTP " + strconv.Itoa(code) + ": " + httpx.Excerpt(rb, 200))
	}
}

// rateLimitReset reads Braze's X-RateLimit-Reset (Unix seconds when the limit resets) as a
// wait from now; zero when absent or past.
func rateLimitReset(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("X-RateLimit-Reset"))
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0
	}
	if d := time.Unix(n, 0).Sub(now); d > 0 {
		return d
	}
	return 0
}
