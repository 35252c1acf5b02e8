package meta

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fake is an httptest fake of the Marketing API's custom audience users edge. It enforces the
// contract the destination relies on: POST (add) and DELETE (remove) on
// /{version}/{audience_id}/users with a JSON body, the access token in the body (never the
// query; 401 code 190 when wrong or missing), the schema exactly EMAIL_SHA256 and PHONE_SHA256,
// every value 64 lower-case hex digits or "", 1 to 10,000 rows (400 code 100 otherwise), and
// random 429s with Retry-After when p429 > 0. It records membership by hashed email (by hashed
// phone for rows without an email), in the order members joined.
type fake struct {
	t          *testing.T
	version    string
	audience   string
	token      string
	p429       float64
	retryAfter string

	mu        sync.Mutex
	rand      *rand.Rand
	members   map[string]bool
	order     []string // member keys, in the order they joined
	calls     map[string]int
	random429 int
	last      [][]string // data of the last accepted call
	// next, when set, answers the next call instead of the contract (then is cleared).
	next func(w http.ResponseWriter) bool
}

func newFake(t *testing.T) (*fake, *httptest.Server) {
	f := &fake{
		t: t, version: "v21.0", audience: "2385", token: "tok-test", retryAfter: "1",
		rand: rand.New(rand.NewSource(1)), members: map[string]bool{}, calls: map[string]int{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func graphErr(w http.ResponseWriter, status, code int, typ, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "code": code, "fbtrace_id": "AbCdEf",
	}})
}

var digest = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.Method]++
	if f.next != nil {
		next := f.next
		f.next = nil
		if next(w) {
			return
		}
	}
	if r.URL.Path != "/"+f.version+"/"+f.audience+"/users" {
		graphErr(w, http.StatusNotFound, 803, "OAuthException", "Unknown path components: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodDelete {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", "Unsupported method "+r.Method)
		return
	}
	if r.URL.RawQuery != "" {
		f.t.Errorf("fake: query string %q: the token and payload belong in the body", r.URL.RawQuery)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", "Content-Type must be JSON, got "+ct)
		return
	}
	var in struct {
		AccessToken string `json:"access_token"`
		Payload     *struct {
			Schema []string   `json:"schema"`
			Data   [][]string `json:"data"`
		} `json:"payload"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", "(#100) body is not JSON: "+err.Error())
		return
	}
	if in.AccessToken == "" || in.AccessToken != f.token {
		graphErr(w, http.StatusUnauthorized, 190, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
		return
	}
	if f.p429 > 0 && f.rand.Float64() < f.p429 {
		f.random429++
		w.Header().Set("Retry-After", f.retryAfter)
		graphErr(w, http.StatusTooManyRequests, 80003, "OAuthException", "(#80003) There have been too many calls to this ad-account.")
		return
	}
	if in.Payload == nil {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", "(#100) The parameter payload is required")
		return
	}
	if strings.Join(in.Payload.Schema, ",") != "EMAIL_SHA256,PHONE_SHA256" {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", fmt.Sprintf("(#100) unexpected schema %v", in.Payload.Schema))
		return
	}
	n := len(in.Payload.Data)
	if n == 0 || n > 10000 {
		graphErr(w, http.StatusBadRequest, 100, "OAuthException", fmt.Sprintf("(#100) payload data must have 1 to 10000 entries, got %d", n))
		return
	}
	invalid := 0
	for i, e := range in.Payload.Data {
		if len(e) != 2 {
			graphErr(w, http.StatusBadRequest, 100, "OAuthException", fmt.Sprintf("(#100) entry %d has %d values, the schema has 2", i, len(e)))
			return
		}
		for _, v := range e {
			if v != "" && !digest.MatchString(v) {
				graphErr(w, http.StatusBadRequest, 100, "OAuthException", fmt.Sprintf("(#100) entry %d is not hashed: want SHA-256 in lower-case hex", i))
				return
			}
		}
		if e[0] == "" && e[1] == "" {
			invalid++
		}
	}
	f.last = in.Payload.Data
	for _, e := range in.Payload.Data {
		k := memberKey(e[0], e[1])
		if k == "" {
			continue
		}
		switch r.Method {
		case http.MethodPost:
			if !f.members[k] {
				f.members[k] = true
				f.order = slices.DeleteFunc(f.order, func(o string) bool { return o == k })
				f.order = append(f.order, k)
			}
		case http.MethodDelete:
			delete(f.members, k)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"audience_id": f.audience, "session_id": "9778993", "num_received": n,
		"num_invalid_entries": invalid, "invalid_entry_samples": map[string]any{},
	})
}

// memberKey is how the fake records a member: its hashed email, else "phone:" and its
// hashed phone.
func memberKey(email, phone string) string {
	if email != "" {
		return email
	}
	if phone != "" {
		return "phone:" + phone
	}
	return ""
}

// memberKeys returns the current members, in the order they joined.
func (f *fake) memberKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, k := range f.order {
		if f.members[k] {
			out = append(out, k)
		}
	}
	return out
}

func (f *fake) lastData() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fake) setNext(fn func(w http.ResponseWriter) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = fn
}
