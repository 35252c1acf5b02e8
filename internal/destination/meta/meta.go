// Package meta is the Meta Custom Audiences destination (Marketing API): it keeps a customer
// list custom audience's members equal to an audience sync's rows.
//
//	destination:
//	  type: meta
//	  audience_id: "23851234567890123"
//	  access_token: ${META_ACCESS_TOKEN}   # system user token with ads_management
//	  api_version: v21.0
//
// Mode audience only. Add rows are added to the audience
// (POST {base_url}/{api_version}/{audience_id}/users), remove rows are taken out of it
// (DELETE on the same path, parameters in the body). Change rows are sent as adds: adding a
// member twice is harmless, and a row whose email or phone changed reaches the audience under
// its new identifiers (the old ones stay until the row is removed).
//
// Each row is matched on its "email" and "phone" fields, normalized and SHA-256 hashed by the
// pii package (phones as E.164 digits, national numbers read as US), sent as
// {"payload": {"schema": ["EMAIL_SHA256", "PHONE_SHA256"], "data": [[email, phone], ...]}}
// with "" for a missing identifier. Values that already are SHA-256 digests are sent as is. An
// invalid value is left out when the row has the other identifier; a row with neither is
// rejected. The access token is sent as the access_token body parameter, never in the URL.
// A call carries at most 10,000 rows (Spec.BatchSize).
//
// Outcomes: a 200 acknowledges every row sent, even when num_invalid_entries > 0: Meta gives
// no per-row detail (only anonymized samples), and entries it could not read simply match
// nobody. HTTP 429, or the rate-limit error codes 4, 17, 32 and 613, make the batch retryable
// after Retry-After (60s when Meta gives none); 5xx too. An invalid token (HTTP 401, error code
// 190) or a 403 fails the Write: those are configuration problems. Any other 4xx rejects the
// rows of that call with Meta's message. Adds and removes are idempotent, so resending a batch
// whose first call went through is harmless.
package meta

import (
	"bytes"
	"context"
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
	"github.com/cdp-dev/cdp/internal/destination/pii"
)

// MaxRows is the most rows Meta takes in one call.
const MaxRows = 10000

// DefaultBaseURL is the Graph API.
const DefaultBaseURL = "https://graph.facebook.com"

// DefaultAPIVersion is the Marketing API version used unless api_version says otherwise.
const DefaultAPIVersion = "v21.0"

// RateLimitWait is the wait after a rate-limit answer without Retry-After.
const RateLimitWait = 60 * time.Second

// Schema is the match keys each data row carries, in order.
var Schema = []string{"EMAIL_SHA256", "PHONE_SHA256"}

// Spec is the Meta destination's spec.
var Spec = destination.Spec{
	Name: "meta",
	Doc:  "Keeps a Meta (Facebook/Instagram) customer list custom audience's members equal to an audience, matched on hashed email and phone.",
	Fields: []destination.Field{
		{Name: "audience_id", Required: true, Doc: "ID of the customer list custom audience", Example: `"23851234567890123"`},
		{Name: "access_token", Required: true, Secret: true, Doc: "Marketing API access token with ads_management on the audience's ad account", Example: "${META_ACCESS_TOKEN}"},
		{Name: "api_version", Doc: "Graph API version", Default: DefaultAPIVersion, Example: "v21.0"},
		{Name: "base_url", Doc: "API address, for tests and proxies", Default: DefaultBaseURL, Example: "http://localhost:8080"},
	},
	Modes:       []string{"audience"},
	BatchSize:   MaxRows,
	Concurrency: 2,
	Timeout:     2 * time.Minute,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a Meta destination.
type Config struct {
	AudienceID  string
	AccessToken string
	APIVersion  string
	BaseURL     *url.URL
}

// ParseConfig validates a Meta destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{
		AudienceID:  strings.TrimSpace(r.String("audience_id", "")),
		AccessToken: strings.TrimSpace(r.Token("access_token", "token")),
		APIVersion:  strings.TrimSpace(r.String("api_version", DefaultAPIVersion)),
		BaseURL:     r.URL("base_url"),
	}
	if c.BaseURL == nil {
		c.BaseURL, _ = url.Parse(DefaultBaseURL)
	}
	if c.AudienceID != "" && strings.Trim(c.AudienceID, "0123456789") != "" {
		r.Failf("audience_id", "must be the audience's numeric ID (in Ads Manager, Audiences), got %q", c.AudienceID)
	}
	if v := c.APIVersion; len(v) < 2 || v[0] != 'v' || strings.Trim(v[1:], "0123456789.") != "" {
		r.Failf("api_version", "must look like %s, got %q", DefaultAPIVersion, v)
	}
	return c, r.Err()
}

// Dest is a Meta Custom Audiences destination. It is safe for concurrent use.
type Dest struct {
	cfg    Config
	client *http.Client
	norm   *pii.Normalizer
	now    func() time.Time
}

var _ destination.Destination = (*Dest)(nil)

// New makes a Meta destination from its config.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(c, nil), nil
}

// NewWithConfig makes a Meta destination from a parsed config and an HTTP client (nil for a
// default one).
func NewWithConfig(c Config, client *http.Client) *Dest {
	if client == nil {
		client = &http.Client{}
	}
	n, err := pii.New(pii.Options{})
	if err != nil {
		panic(err) // the default country is always known
	}
	return &Dest{cfg: c, client: client, norm: n, now: time.Now}
}

// Spec returns the destination's spec.
func (d *Dest) Spec() destination.Spec { return Spec }

// MatchKeys returns a row's hashed email and phone, "" for a missing one, or the reason the
// row cannot be matched.
func (d *Dest) MatchKeys(row destination.Row) (email, phone string, reason string) {
	e, eErr := d.norm.Hash(pii.Email, destination.FormatValue(row.Fields["email"]))
	p, pErr := d.norm.Hash(pii.Phone, destination.FormatValue(row.Fields["phone"]))
	if e != "" || p != "" {
		return e, p, ""
	}
	var why []string
	for _, err := range []error{eErr, pErr} {
		if err != nil {
			why = append(why, err.Error())
		}
	}
	if len(why) > 0 {
		return "", "", "no email or phone to match on: " + strings.Join(why, "; ")
	}
	return "", "", "no email or phone to match on"
}

type payload struct {
	Schema []string   `json:"schema"`
	Data   [][]string `json:"data"`
}

type request struct {
	Payload     payload `json:"payload"`
	AccessToken string  `json:"access_token"`
}

type response struct {
	AudienceID        string `json:"audience_id"`
	NumReceived       int    `json:"num_received"`
	NumInvalidEntries int    `json:"num_invalid_entries"`
}

// APIError is Meta's error object.
type APIError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	FBTraceID string `json:"fbtrace_id"`
}

// requestError is a 4xx answer about the request's content: its rows are rejected.
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return fmt.Sprintf("Meta HTTP %d: %s", e.status, e.message) }

// rateLimitCodes are the Graph API error codes that mean "too many calls".
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 613: true}

// Write adds the batch's add and change rows to the audience and removes its remove rows.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("meta: %w", err)
	}
	res := destination.OKResult(len(b.Rows))
	if len(b.Rows) == 0 {
		return res, nil
	}
	if len(b.Rows) > MaxRows {
		return destination.Result{}, fmt.Errorf("meta: a batch has at most %d rows, got %d", MaxRows, len(b.Rows))
	}
	if b.Mode != "" && b.Mode != "audience" {
		return destination.Result{}, fmt.Errorf("meta: mode %q is not supported; use audience", b.Mode)
	}
	var addIdx, removeIdx []int
	var addData, removeData [][]string
	for i, row := range b.Rows {
		e, p, reason := d.MatchKeys(row)
		if reason != "" {
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
			continue
		}
		switch row.Action {
		case destination.Add, destination.Change:
			addIdx = append(addIdx, i)
			addData = append(addData, []string{e, p})
		case destination.Remove:
			removeIdx = append(removeIdx, i)
			removeData = append(removeData, []string{e, p})
		default:
			res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: fmt.Sprintf("unknown action %q", row.Action)}
		}
	}
	for _, call := range []struct {
		method string
		idx    []int
		data   [][]string
	}{
		{http.MethodPost, addIdx, addData},
		{http.MethodDelete, removeIdx, removeData},
	} {
		if len(call.idx) == 0 {
			continue
		}
		err := d.send(ctx, call.method, call.data)
		var re *requestError
		switch {
		case errors.As(err, &re):
			for _, i := range call.idx {
				res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: re.message}
			}
		case err != nil:
			return destination.Result{}, err
		}
	}
	return res, nil
}

// send makes one call to the audience's users edge. 200 is nil; 429, rate-limit codes and 5xx
// are RetryableErrors; an invalid token is a plain error; other 4xx are *requestError; a
// cancelled ctx wraps context.Canceled.
func (d *Dest) send(ctx context.Context, method string, data [][]string) error {
	path := "/" + d.cfg.APIVersion + "/" + d.cfg.AudienceID + "/users"
	what := "meta: " + method + " " + path
	body, err := json.Marshal(request{Payload: payload{Schema: Schema, Data: data}, AccessToken: d.cfg.AccessToken})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	u := d.cfg.BaseURL.JoinPath(d.cfg.APIVersion, d.cfg.AudienceID, "users")
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cdp")
	resp, err := d.client.Do(req)
	if err != nil {
		return httpx.TransportError(ctx, what, err)
	}
	respBody := httpx.ReadBody(resp)
	code := resp.StatusCode
	var eb struct {
		Error *APIError `json:"error"`
	}
	_ = json.Unmarshal(respBody, &eb)
	apiErr := eb.Error
	switch {
	case code >= 200 && code < 300 && apiErr == nil:
		var out response
		if err := json.Unmarshal(respBody, &out); err != nil {
			return &destination.RetryableError{Err: fmt.Errorf("%s: HTTP %d with a body that is not the expected JSON: %v: %s", what, code, err, httpx.Excerpt(respBody, 200))}
		}
		// num_invalid_entries > 0 still acknowledges the rows: Meta says not which ones.
		return nil
	case code == http.StatusTooManyRequests || (apiErr != nil && rateLimitCodes[apiErr.Code]):
		e := httpx.StatusError(what, resp, respBody, d.now())
		if e.RetryAfter == 0 {
			e.RetryAfter = RateLimitWait
		}
		return e
	case code >= 500 || code == http.StatusRequestTimeout:
		return httpx.StatusError(what, resp, respBody, d.now())
	case code == http.StatusUnauthorized || code == http.StatusForbidden || (apiErr != nil && apiErr.Code == 190):
		return fmt.Errorf("%s: Meta refused the access token (HTTP %d: %s); check access_token: a valid token with ads_management on the audience's ad account", what, code, message(respBody, apiErr))
	default:
		return &requestError{status: code, message: fmt.Sprintf("HTTP %d: %s", code, message(respBody, apiErr))}
	}
}

// message is the message of a Meta error, or the start of the body.
func message(body []byte, e *APIError) string {
	if e != nil && e.Message != "" {
		s := e.Message
		if e.Code != 0 {
			s = fmt.Sprintf("%s (code %d", s, e.Code)
			if e.Subcode != 0 {
				s += fmt.Sprintf(", subcode %d", e.Subcode)
			}
			s += ")"
		}
		return s
	}
	return httpx.Excerpt(body, 200)
}
