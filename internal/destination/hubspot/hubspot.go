// Package hubspot is the HubSpot destination: it upserts contacts and keeps a static list's
// membership equal to an audience.
//
//	destination:
//	  type: hubspot
//	  token: ${HUBSPOT_TOKEN}   # private app token (scopes crm.objects.contacts.read/write, crm.lists.read/write)
//	  list_id: "123"            # the MANUAL (static) list an audience sync keeps; audience mode only
//	  id_property: email        # the unique contact property rows are matched on
//	  rate_limit: 9             # requests per second, shared by all Writes of the destination
//
// Modes:
//
//   - upsert: add and change rows become a batch upsert of contacts
//     (POST /crm/v3/objects/contacts/batch/upsert, at most 100 inputs, idProperty email):
//     every field is a contact property, written as text (destination.FormatValue); nil clears
//     the property.
//   - audience: as upsert, then the upserted contacts are added to the list
//     (PUT /crm/v3/lists/{listId}/memberships/add); remove rows are looked up by email
//     (POST /crm/v3/objects/contacts/batch/read) and taken out of the list
//     (PUT /crm/v3/lists/{listId}/memberships/remove). Contacts are never deleted; a removed
//     row whose contact does not exist is already out of the list.
//
// In upsert mode cdp sends a remove only for a profile that withdrew the sync's consent
// purpose. What cdp sent is taken back: the contact is looked up as for a list removal and its
// properties of the row's fields (all but id_property) are cleared
// (POST /crm/v3/objects/contacts/batch/update). A contact that does not exist is not created.
//
// The contact is matched on the row's id_property field when it has one, else on its key.
//
// Outcomes: a 400 from the upsert rejects the rows of that call with HubSpot's message (HubSpot
// validates a batch as a whole; the engine splits it to find the bad rows); a 207 rejects the
// rows without a result. A contact the list does not know yet comes back Retryable. 429 and
// 5xx make the whole batch retryable, with Retry-After (1s when HubSpot gives none); every
// call is idempotent, so resending a batch whose upsert already went through is harmless.
// 401 and 403 fail the Write with an error about the token, and a 404 from the list about
// list_id: they are configuration problems, not bad rows.
//
// Requests are paced by the destination itself (rate_limit per second), because one Write makes
// up to four of them.
package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/destination/internal/conf"
	"github.com/cdp-dev/cdp/internal/destination/internal/httpx"
)

// MaxInputs is the most inputs HubSpot takes in one batch call.
const MaxInputs = 100

// DefaultBaseURL is HubSpot's API.
const DefaultBaseURL = "https://api.hubapi.com"

// Spec is the HubSpot destination's spec.
var Spec = destination.Spec{
	Name: "hubspot",
	Doc:  "Upserts HubSpot contacts and keeps a static list's members equal to an audience.",
	Fields: []destination.Field{
		{Name: "token", Required: true, Secret: true, Doc: "private app access token, sent as a Bearer token", Example: "${HUBSPOT_TOKEN}"},
		{Name: "list_id", Doc: "ID of the MANUAL (static) contact list that audience mode keeps", Example: `"123"`},
		{Name: "id_property", Doc: "unique contact property rows are matched on", Default: "email", Example: "email"},
		{Name: "rate_limit", Doc: "most requests per second to HubSpot", Default: "9", Example: "5"},
		{Name: "timeout", Doc: "how long one request may take", Default: "30s", Example: "1m"},
		{Name: "base_url", Doc: "API address, for tests and proxies", Default: DefaultBaseURL, Example: "http://localhost:8080"},
	},
	Modes:       []string{"upsert", "audience"},
	BatchSize:   MaxInputs,
	Concurrency: 2,
	Timeout:     2 * time.Minute,
}

func init() {
	destination.Default.Register(Spec, func(cfg map[string]any) (destination.Destination, error) {
		return New(cfg)
	})
}

// Config is the parsed configuration of a HubSpot destination.
type Config struct {
	Token      string
	ListID     string
	IDProperty string
	RateLimit  float64
	Timeout    time.Duration
	BaseURL    *url.URL
}

// ParseConfig validates a HubSpot destination's config.
func ParseConfig(cfg map[string]any) (Config, error) {
	r := conf.New(Spec, cfg)
	c := Config{
		Token:      r.Token("token", "token"),
		ListID:     strings.TrimSpace(r.String("list_id", "")),
		IDProperty: strings.TrimSpace(r.String("id_property", "email")),
		RateLimit:  r.Float("rate_limit", 9, 0.1, 1000),
		Timeout:    r.Duration("timeout", 30*time.Second, time.Second, 10*time.Minute),
		BaseURL:    r.URL("base_url"),
	}
	if c.BaseURL == nil {
		c.BaseURL, _ = url.Parse(DefaultBaseURL)
	}
	if c.ListID != "" && strings.Trim(c.ListID, "0123456789") != "" {
		r.Failf("list_id", "must be the list's numeric ID (in the list's URL in HubSpot), got %q", c.ListID)
	}
	return c, r.Err()
}

// Dest is a HubSpot destination. It is safe for concurrent use.
type Dest struct {
	cfg     Config
	client  *http.Client
	limiter *httpx.Limiter
	now     func() time.Time
}

var _ destination.Destination = (*Dest)(nil)

// New makes a HubSpot destination from its config.
func New(cfg map[string]any) (*Dest, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithConfig(c, nil), nil
}

// NewWithConfig makes a HubSpot destination from a parsed config and an HTTP client (nil for a
// default one).
func NewWithConfig(c Config, client *http.Client) *Dest {
	if client == nil {
		client = &http.Client{}
	}
	return &Dest{cfg: c, client: client, limiter: httpx.NewLimiter(c.RateLimit, 1), now: time.Now}
}

// Spec returns the destination's spec.
func (d *Dest) Spec() destination.Spec { return Spec }

type upsertInput struct {
	IDProperty string            `json:"idProperty"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

type object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

type batchResponse struct {
	Status  string     `json:"status"`
	Results []object   `json:"results"`
	Errors  []apiError `json:"errors"`
}

type apiError struct {
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	Category string         `json:"category"`
	Context  map[string]any `json:"context"`
}

// requestError is a 4xx answer other than 401, 403 and 429.
type requestError struct {
	status  int
	message string
}

func (e *requestError) Error() string { return fmt.Sprintf("HubSpot HTTP %d: %s", e.status, e.message) }

// idValue is the value a row's contact is matched on.
func (d *Dest) idValue(row destination.Row) string {
	v := strings.TrimSpace(destination.FormatValue(row.Fields[d.cfg.IDProperty]))
	if v == "" {
		v = strings.TrimSpace(row.Key)
	}
	if d.cfg.IDProperty == "email" {
		v = strings.ToLower(v)
	}
	return v
}

// Write upserts the batch's contacts and, in audience mode, updates the list's membership.
func (d *Dest) Write(ctx context.Context, b destination.Batch) (destination.Result, error) {
	if err := ctx.Err(); err != nil {
		return destination.Result{}, fmt.Errorf("hubspot: %w", err)
	}
	res := destination.OKResult(len(b.Rows))
	if len(b.Rows) == 0 {
		return res, nil
	}
	if len(b.Rows) > MaxInputs {
		return destination.Result{}, fmt.Errorf("hubspot: a batch has at most %d rows, got %d", MaxInputs, len(b.Rows))
	}
	audience := b.Mode == "audience"
	switch b.Mode {
	case "", "upsert":
	case "audience":
		if d.cfg.ListID == "" {
			return destination.Result{}, errors.New("hubspot: audience mode needs a list: set list_id to the ID of a static (MANUAL) contact list")
		}
	default:
		return destination.Result{}, fmt.Errorf("hubspot: mode %q is not supported; use upsert or audience", b.Mode)
	}
	reject := func(i int, reason string) {
		res.Rows[i] = destination.RowResult{Outcome: destination.Rejected, Reason: reason}
	}

	// Rows by contact, in order; a contact named twice takes the last row's properties.
	upserts := map[string][]int{}
	removes := map[string][]int{}
	var upsertOrder, removeOrder []string
	props := map[string]map[string]string{}
	clearProps := map[string]map[string]string{} // upsert mode: the properties a remove clears
	for i, row := range b.Rows {
		id := d.idValue(row)
		if id == "" {
			reject(i, fmt.Sprintf("no %s: the row needs a %s field or a key", d.cfg.IDProperty, d.cfg.IDProperty))
			continue
		}
		switch row.Action {
		case destination.Add, destination.Change:
			if _, ok := upserts[id]; !ok {
				upsertOrder = append(upsertOrder, id)
			}
			upserts[id] = append(upserts[id], i)
			p := map[string]string{}
			for k, v := range row.Fields {
				p[k] = destination.FormatValue(v)
			}
			props[id] = p
		case destination.Remove:
			if !audience {
				c := clearProps[id]
				if c == nil {
					c = map[string]string{}
					clearProps[id] = c
				}
				for k := range row.Fields {
					if k != d.cfg.IDProperty {
						c[k] = ""
					}
				}
			}
			if _, ok := removes[id]; !ok {
				removeOrder = append(removeOrder, id)
			}
			removes[id] = append(removes[id], i)
		default:
			reject(i, fmt.Sprintf("unknown action %q", row.Action))
		}
	}
	setAll := func(rows []int, o destination.Outcome, reason string) {
		for _, i := range rows {
			res.Rows[i] = destination.RowResult{Outcome: o, Reason: reason}
		}
	}

	// 1. Upsert contacts.
	recordIDs := map[string]string{} // id value -> HubSpot record ID
	if len(upsertOrder) > 0 {
		in := struct {
			Inputs []upsertInput `json:"inputs"`
		}{}
		for _, id := range upsertOrder {
			in.Inputs = append(in.Inputs, upsertInput{IDProperty: d.cfg.IDProperty, ID: id, Properties: props[id]})
		}
		var out batchResponse
		err := d.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/upsert", in, &out)
		var re *requestError
		switch {
		case errors.As(err, &re):
			for _, id := range upsertOrder {
				setAll(upserts[id], destination.Rejected, re.message)
			}
		case err != nil:
			return destination.Result{}, err
		default:
			d.matchResults(out, upsertOrder, recordIDs)
			for _, id := range upsertOrder {
				if recordIDs[id] == "" {
					setAll(upserts[id], destination.Rejected, errorFor(out.Errors, id, "HubSpot returned no contact for it"))
				}
			}
		}
	}

	// 2. Add the upserted contacts to the list.
	if audience {
		var add []string
		for _, id := range upsertOrder {
			if rid := recordIDs[id]; rid != "" {
				add = append(add, rid)
			}
		}
		if len(add) > 0 {
			var out struct {
				Added   []string `json:"recordIdsAdded"`
				Missing []string `json:"recordIdsMissing"`
			}
			err := d.do(ctx, http.MethodPut, "/crm/v3/lists/"+url.PathEscape(d.cfg.ListID)+"/memberships/add", add, &out)
			if err := d.listError(err); err != nil {
				return destination.Result{}, err
			}
			var re *requestError
			if errors.As(err, &re) {
				for _, id := range upsertOrder {
					if recordIDs[id] != "" {
						setAll(upserts[id], destination.Rejected, "adding to the list: "+re.message)
					}
				}
			}
			missing := map[string]bool{}
			for _, m := range out.Missing {
				missing[m] = true
			}
			for _, id := range upsertOrder {
				if missing[recordIDs[id]] {
					setAll(upserts[id], destination.Retryable, "the list does not know the contact yet")
				}
			}
		}
	}

	// 3. Take removed contacts out of the list, or (upsert mode) clear what was sent to them.
	if len(removeOrder) > 0 {
		in := struct {
			IDProperty string              `json:"idProperty"`
			Inputs     []map[string]string `json:"inputs"`
			Properties []string            `json:"properties"`
		}{IDProperty: d.cfg.IDProperty, Properties: []string{d.cfg.IDProperty}}
		for _, id := range removeOrder {
			in.Inputs = append(in.Inputs, map[string]string{"id": id})
		}
		var out batchResponse
		err := d.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/read", in, &out)
		var re *requestError
		switch {
		case errors.As(err, &re):
			for _, id := range removeOrder {
				setAll(removes[id], destination.Rejected, "looking up the contact: "+re.message)
			}
		case err != nil:
			return destination.Result{}, err
		default:
			found := map[string]string{}
			d.matchResults(out, nil, found)
			if !audience {
				if err := d.clearProperties(ctx, removeOrder, found, clearProps, func(id, reason string) {
					setAll(removes[id], destination.Rejected, reason)
				}); err != nil {
					return destination.Result{}, err
				}
				break
			}
			var ids []string
			for _, id := range removeOrder {
				if rid := found[id]; rid != "" {
					ids = append(ids, rid)
				}
			}
			if len(ids) > 0 {
				err := d.do(ctx, http.MethodPut, "/crm/v3/lists/"+url.PathEscape(d.cfg.ListID)+"/memberships/remove", ids, nil)
				if err := d.listError(err); err != nil {
					return destination.Result{}, err
				}
				if errors.As(err, &re) {
					for _, id := range removeOrder {
						if found[id] != "" {
							setAll(removes[id], destination.Rejected, "removing from the list: "+re.message)
						}
					}
				}
			}
		}
	}
	return res, nil
}

// clearProperties empties, on the contacts found (id value -> record ID), the properties a
// withdrawn consent takes back. A request error rejects the rows of the contacts it was for.
func (d *Dest) clearProperties(ctx context.Context, order []string, found map[string]string, clear map[string]map[string]string, reject func(id, reason string)) error {
	type updateInput struct {
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	}
	var in struct {
		Inputs []updateInput `json:"inputs"`
	}
	var sent []string
	for _, id := range order {
		if rid := found[id]; rid != "" && len(clear[id]) > 0 {
			in.Inputs = append(in.Inputs, updateInput{ID: rid, Properties: clear[id]})
			sent = append(sent, id)
		}
	}
	if len(in.Inputs) == 0 {
		return nil
	}
	err := d.do(ctx, http.MethodPost, "/crm/v3/objects/contacts/batch/update", in, nil)
	var re *requestError
	if errors.As(err, &re) {
		for _, id := range sent {
			reject(id, "clearing the properties of a withdrawn consent: "+re.message)
		}
		return nil
	}
	return err
}

// listError turns the errors of a list call that are not about rows into the Write's error:
// retryable ones, auth, and a list that does not exist.
func (d *Dest) listError(err error) error {
	var re *requestError
	if !errors.As(err, &re) {
		return err
	}
	if re.status == http.StatusNotFound {
		return fmt.Errorf("hubspot: list %s not found (%s); check list_id, and that it is a static (MANUAL) contact list", d.cfg.ListID, re.message)
	}
	return nil
}

// matchResults records the record ID of each result by its id property. When a result does not
// carry the property and the results are as many as order (the ids sent), they match by position.
func (d *Dest) matchResults(out batchResponse, order []string, ids map[string]string) {
	unmatched := false
	for _, r := range out.Results {
		v := r.Properties[d.cfg.IDProperty]
		if d.cfg.IDProperty == "email" {
			v = strings.ToLower(v)
		}
		if v == "" {
			unmatched = true
			continue
		}
		ids[v] = r.ID
	}
	if unmatched && len(out.Results) == len(order) && len(out.Errors) == 0 {
		for i, r := range out.Results {
			ids[order[i]] = r.ID
		}
	}
}

// errorFor finds the message of the error whose context names id, else joins all messages.
func errorFor(errs []apiError, id, fallback string) string {
	var all []string
	for _, e := range errs {
		all = append(all, e.Message)
		for _, v := range e.Context {
			if vs, ok := v.([]any); ok {
				for _, x := range vs {
					if s, ok := x.(string); ok && strings.EqualFold(s, id) {
						return e.Message
					}
				}
			}
		}
	}
	if len(all) == 0 {
		return fallback
	}
	sort.Strings(all)
	return strings.Join(all, "; ")
}

// do makes one API call. 2xx and 207 decode into out; 429 and 5xx are RetryableErrors; 401 and
// 403 are errors about the token; other 4xx are *requestError; a cancelled ctx wraps
// context.Canceled.
func (d *Dest) do(ctx context.Context, method, path string, in, out any) error {
	what := "hubspot: " + method + " " + path
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := d.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	rctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	u := d.cfg.BaseURL.JoinPath(path)
	req, err := http.NewRequestWithContext(rctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+d.cfg.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cdp")
	resp, err := d.client.Do(req)
	if err != nil {
		return httpx.TransportError(ctx, what, err)
	}
	respBody := httpx.ReadBody(resp)
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if out == nil || len(bytes.TrimSpace(respBody)) == 0 {
			return nil
		}
		if err := json.Unmarshal(respBody, out); err != nil {
			return &destination.RetryableError{Err: fmt.Errorf("%s: HTTP %d with a body that is not the expected JSON: %v: %s", what, code, err, httpx.Excerpt(respBody, 200))}
		}
		return nil
	case httpx.Retryable(code):
		e := httpx.StatusError(what, resp, respBody, d.now())
		if code == http.StatusTooManyRequests && e.RetryAfter == 0 {
			e.RetryAfter = time.Second
		}
		return e
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: HubSpot refused the token (HTTP %d: %s); check token: a private app token with the scopes crm.objects.contacts.read, crm.objects.contacts.write, crm.lists.read and crm.lists.write", what, code, message(respBody))
	default:
		return &requestError{status: code, message: fmt.Sprintf("HTTP %d: %s", code, message(respBody))}
	}
}

// message is the message of a HubSpot error body, or the start of the body.
func message(body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		if e.Category != "" {
			return e.Category + ": " + e.Message
		}
		return e.Message
	}
	return httpx.Excerpt(body, 200)
}
