package braze

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"sync"
	"testing"

	"github.com/cdp-dev/cdp/internal/destination"
)

// fake is an httptest fake of Braze's POST /users/track. It enforces Bearer auth (401), at most
// 75 attribute objects (400), rejects objects without external_id or with an invalid email
// through the errors array (HTTP 201, the other objects applied), answers random 429s with
// Retry-After when p429 > 0, and records every user's attributes (null unsets one).
type fake struct {
	t          *testing.T
	key        string
	p429       float64
	retryAfter string
	force      func(w http.ResponseWriter) bool // answers instead of the fake when it returns true

	mu        sync.Mutex
	rand      *rand.Rand
	users     map[string]map[string]any // external_id -> attributes
	requests  int
	maxAttrs  int
	random429 int
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{t: t, key: "braze-key", retryAfter: "1", rand: rand.New(rand.NewSource(1)), users: map[string]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[a-z]{2,}$`)

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.force != nil && f.force(w) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.key {
		writeJSON(w, 401, map[string]any{"message": "Invalid API key: " + r.Header.Get("Authorization")})
		return
	}
	if f.p429 > 0 && f.rand.Float64() < f.p429 {
		f.random429++
		w.Header().Set("Retry-After", f.retryAfter)
		writeJSON(w, 429, map[string]any{"message": "API rate limit exceeded"})
		return
	}
	if r.Method != "POST" || r.URL.Path != "/users/track" {
		writeJSON(w, 404, map[string]any{"message": "no route for " + r.Method + " " + r.URL.Path})
		return
	}
	var in struct {
		Attributes []map[string]any `json:"attributes"`
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, 400, map[string]any{"message": "Invalid JSON: " + err.Error()})
		return
	}
	f.requests++
	f.maxAttrs = max(f.maxAttrs, len(in.Attributes))
	if len(in.Attributes) > MaxAttributes {
		writeJSON(w, 400, map[string]any{"message": fmt.Sprintf("Too many attributes objects: %d, the limit is %d", len(in.Attributes), MaxAttributes)})
		return
	}
	var errs []map[string]any
	for i, a := range in.Attributes {
		id, _ := a["external_id"].(string)
		if id == "" {
			errs = append(errs, map[string]any{"type": "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required", "input_array": "attributes", "index": i})
			continue
		}
		if e, ok := a["email"]; ok && e != nil {
			if s, isStr := e.(string); !isStr || !emailRE.MatchString(s) {
				errs = append(errs, map[string]any{"type": "Invalid email address", "input_array": "attributes", "index": i})
				continue
			}
		}
		u := f.users[id]
		if u == nil {
			u = map[string]any{}
			f.users[id] = u
		}
		for k, v := range a {
			if k == "external_id" {
				continue
			}
			if v == nil {
				delete(u, k)
			} else {
				u[k] = v
			}
		}
	}
	out := map[string]any{"message": "success", "attributes_processed": len(in.Attributes) - len(errs)}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	writeJSON(w, 201, out)
}

// readback returns a row per user, sorted by external_id: a user without attributes is a
// Remove (its fields were nulled), any other an Add with its attributes as plain JSON values.
func (f *fake) readback(t *testing.T) []destination.Row {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []destination.Row
	for id, u := range f.users {
		b, _ := json.Marshal(u)
		fields := map[string]any{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			t.Fatal(err)
		}
		a := destination.Add
		if len(fields) == 0 {
			a = destination.Remove
		}
		out = append(out, destination.Row{Key: id, Action: a, Fields: fields})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
