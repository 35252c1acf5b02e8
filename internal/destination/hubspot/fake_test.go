package hubspot

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdp-dev/cdp/internal/destination"
)

// fake is an httptest fake of the HubSpot API calls the destination makes. It enforces the
// documented contract: Bearer auth (401 without it), at most 100 inputs per batch call (400),
// valid unique emails in an upsert (400, the whole batch), 10 requests per second (429 with
// Retry-After), random 429s when p429 > 0, static lists that exist (404).
type fake struct {
	t     *testing.T
	token string
	p429  float64
	rps   int

	mu        sync.Mutex
	rand      *rand.Rand
	contacts  map[string]map[string]string // record ID -> properties
	byEmail   map[string]string            // email -> record ID
	nextID    int
	lists     map[string]map[string]bool // list ID -> record IDs
	recent    []time.Time
	calls     map[string]int // "METHOD path" -> count
	throttled int            // 429s for going over the rate
	random429 int
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{
		t: t, token: "pat-test", rps: 10,
		rand:     rand.New(rand.NewSource(1)),
		contacts: map[string]map[string]string{}, byEmail: map[string]string{},
		nextID: 100, lists: map[string]map[string]bool{"42": {}}, calls: map[string]int{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func hubErr(w http.ResponseWriter, code int, category, msg string) {
	writeJSON(w, code, map[string]any{"status": "error", "message": msg, "correlationId": "c0ffee", "category": category})
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)
var listPath = regexp.MustCompile(`^/crm/v3/lists/([^/]+)/memberships/(add|remove)$`)

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	// Rate limit: at most rps requests in any second, counting every request.
	keep := f.recent[:0]
	for _, t := range f.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	f.recent = append(keep, now)
	if len(f.recent) > f.rps {
		f.throttled++
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 429, map[string]any{"status": "error", "message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT", "policyName": "SECONDLY"})
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "Bearer "+f.token {
		if auth == "" {
			hubErr(w, 401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
		} else {
			hubErr(w, 401, "INVALID_AUTHENTICATION", "The OAuth token used to make this call expired or is invalid.")
		}
		return
	}
	if f.p429 > 0 && f.rand.Float64() < f.p429 {
		f.random429++
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 429, map[string]any{"status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})
		return
	}
	f.calls[r.Method+" "+r.URL.Path]++
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		hubErr(w, 415, "VALIDATION_ERROR", "Content-Type must be application/json")
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/crm/v3/objects/contacts/batch/upsert":
		f.upsert(w, r)
	case r.Method == "POST" && r.URL.Path == "/crm/v3/objects/contacts/batch/read":
		f.read(w, r)
	case r.Method == "POST" && r.URL.Path == "/crm/v3/objects/contacts/batch/update":
		f.update(w, r)
	case r.Method == "PUT" && listPath.MatchString(r.URL.Path):
		m := listPath.FindStringSubmatch(r.URL.Path)
		f.membership(w, r, m[1], m[2])
	default:
		hubErr(w, 404, "OBJECT_NOT_FOUND", "no route for "+r.Method+" "+r.URL.Path)
	}
}

func (f *fake) upsert(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Inputs []struct {
			IDProperty string            `json:"idProperty"`
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		hubErr(w, 400, "VALIDATION_ERROR", "Invalid input JSON: "+err.Error())
		return
	}
	if len(in.Inputs) == 0 {
		hubErr(w, 400, "VALIDATION_ERROR", "inputs must not be empty")
		return
	}
	if len(in.Inputs) > MaxInputs {
		hubErr(w, 400, "VALIDATION_ERROR", fmt.Sprintf("Batch input size limit exceeded: %d > %d", len(in.Inputs), MaxInputs))
		return
	}
	seen := map[string]bool{}
	for _, x := range in.Inputs {
		email := strings.ToLower(x.ID)
		if x.IDProperty != "email" {
			hubErr(w, 400, "VALIDATION_ERROR", "idProperty must be a unique property; got "+x.IDProperty)
			return
		}
		if !emailRE.MatchString(email) {
			hubErr(w, 400, "VALIDATION_ERROR", fmt.Sprintf("Property values were not valid: [{\"isValid\":false,\"message\":\"Email address %s is invalid\",\"error\":\"INVALID_EMAIL\",\"name\":\"email\"}]", x.ID))
			return
		}
		if seen[email] {
			hubErr(w, 400, "VALIDATION_ERROR", "Duplicate IDs found in batch input: "+email)
			return
		}
		seen[email] = true
	}
	var results []map[string]any
	for _, x := range in.Inputs {
		email := strings.ToLower(x.ID)
		id, ok := f.byEmail[email]
		if !ok {
			id = strconv.Itoa(f.nextID)
			f.nextID++
			f.byEmail[email] = id
			f.contacts[id] = map[string]string{}
		}
		for k, v := range x.Properties {
			f.contacts[id][k] = v
		}
		f.contacts[id]["email"] = email
		results = append(results, map[string]any{"id": id, "properties": f.contacts[id], "new": !ok})
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": results, "startedAt": time.Now(), "completedAt": time.Now()})
}

// update sets properties of existing contacts by record ID; an unknown ID fails the batch, as
// HubSpot does ("Object not found").
func (f *fake) update(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Inputs []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Inputs) == 0 {
		hubErr(w, 400, "VALIDATION_ERROR", "bad batch update")
		return
	}
	if len(in.Inputs) > MaxInputs {
		hubErr(w, 400, "VALIDATION_ERROR", fmt.Sprintf("Batch input size limit exceeded: %d > %d", len(in.Inputs), MaxInputs))
		return
	}
	for _, x := range in.Inputs {
		if _, ok := f.contacts[x.ID]; !ok {
			hubErr(w, 400, "VALIDATION_ERROR", "Object not found. objectId are usually numeric: "+x.ID)
			return
		}
	}
	var results []map[string]any
	for _, x := range in.Inputs {
		for k, v := range x.Properties {
			if k == "email" {
				continue
			}
			f.contacts[x.ID][k] = v
		}
		results = append(results, map[string]any{"id": x.ID, "properties": f.contacts[x.ID]})
	}
	writeJSON(w, 200, map[string]any{"status": "COMPLETE", "results": results})
}

func (f *fake) read(w http.ResponseWriter, r *http.Request) {
	var in struct {
		IDProperty string `json:"idProperty"`
		Inputs     []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.IDProperty != "email" {
		hubErr(w, 400, "VALIDATION_ERROR", "bad batch read")
		return
	}
	if len(in.Inputs) > MaxInputs {
		hubErr(w, 400, "VALIDATION_ERROR", fmt.Sprintf("Batch input size limit exceeded: %d > %d", len(in.Inputs), MaxInputs))
		return
	}
	var results []map[string]any
	var missing []string
	for _, x := range in.Inputs {
		if id, ok := f.byEmail[strings.ToLower(x.ID)]; ok {
			results = append(results, map[string]any{"id": id, "properties": map[string]string{"email": f.contacts[id]["email"]}})
		} else {
			missing = append(missing, x.ID)
		}
	}
	out := map[string]any{"status": "COMPLETE", "results": results}
	code := 200
	if len(missing) > 0 {
		code = 207
		out["numErrors"] = 1
		out["errors"] = []map[string]any{{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some CONTACT objects, they may be deleted or not exist.", "context": map[string]any{"ids": missing}}}
	}
	writeJSON(w, code, out)
}

func (f *fake) membership(w http.ResponseWriter, r *http.Request, list, op string) {
	members, ok := f.lists[list]
	if !ok {
		hubErr(w, 404, "OBJECT_NOT_FOUND", "List "+list+" does not exist.")
		return
	}
	var ids []string
	if err := json.NewDecoder(r.Body).Decode(&ids); err != nil {
		hubErr(w, 400, "VALIDATION_ERROR", "body must be a JSON array of record IDs: "+err.Error())
		return
	}
	var done, missing []string
	for _, id := range ids {
		if _, ok := f.contacts[id]; !ok {
			missing = append(missing, id)
			continue
		}
		if op == "add" && !members[id] {
			members[id] = true
			done = append(done, id)
		}
		if op == "remove" && members[id] {
			delete(members, id)
			done = append(done, id)
		}
	}
	if op == "add" {
		writeJSON(w, 200, map[string]any{"recordIdsAdded": done, "recordIdsMissing": missing})
	} else {
		writeJSON(w, 200, map[string]any{"recordIdsRemoved": done, "recordIdsMissing": missing})
	}
}

// contactsRows returns every contact as a row keyed by email, sorted.
func (f *fake) contactsRows() []destination.Row {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rows(func(string) bool { return true })
}

// listRows returns the members of a list as rows keyed by email, sorted.
func (f *fake) listRows(list string) []destination.Row {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rows(func(id string) bool { return f.lists[list][id] })
}

func (f *fake) rows(keep func(id string) bool) []destination.Row {
	var out []destination.Row
	for id, p := range f.contacts {
		if !keep(id) {
			continue
		}
		fields := map[string]any{}
		for k, v := range p {
			fields[k] = v
		}
		out = append(out, destination.Row{Key: p["email"], Action: destination.Add, Fields: fields})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
