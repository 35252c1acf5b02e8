package generate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func gen1(t *testing.T, o Options) Summary {
	t.Helper()
	if o.Out == "" {
		o.Out = t.TempDir()
	}
	s, err := Events(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readDir returns name -> content of every file in dir.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// lines returns all lines of the summary's event files, in order, decompressing gzip.
func lines(t *testing.T, s Summary) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range s.Files {
		data := readFile(t, f)
		for l := range bytes.Lines(data) {
			out = append(out, l)
		}
	}
	return out
}

func readFile(t *testing.T, f string) []byte {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(f, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return data
}

func readTruth(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != TruthHeader {
		t.Fatalf("truth header = %v, want %s", recs[:min(1, len(recs))], TruthHeader)
	}
	return recs[1:]
}

func TestDeterministic(t *testing.T) {
	o := Options{Persons: 2500, Seed: 42, FileEvents: 15_000, BadRate: 0.01, DuplicateRate: 0.01}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(1)
	a := gen1(t, o)
	runtime.GOMAXPROCS(4) // a different number of workers must not change a byte
	b := gen1(t, o)
	da, db := readDir(t, filepath.Dir(a.TruthFile)), readDir(t, filepath.Dir(b.TruthFile))
	if len(da) < 3 {
		t.Fatalf("want several files, got %d", len(da))
	}
	for name, ca := range da {
		if !bytes.Equal(ca, db[name]) {
			t.Errorf("%s differs between two runs with the same options", name)
		}
	}
	if len(da) != len(db) {
		t.Errorf("runs wrote %d and %d files", len(da), len(db))
	}
	if diff := cmp.Diff(a.Events, b.Events); diff != "" {
		t.Error(diff)
	}

	o.Seed = 43
	c := gen1(t, o)
	dc := readDir(t, filepath.Dir(c.TruthFile))
	if bytes.Equal(da["events-00001.ndjson"], dc["events-00001.ndjson"]) {
		t.Error("different seeds produced the same events")
	}
	if bytes.Equal(da[TruthFileName], dc[TruthFileName]) {
		t.Error("different seeds produced the same truth")
	}
}

var tsRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

type msg = map[string]any

// checkGood returns why a line is not a good Segment message, or "".
func checkGood(line []byte, start, end time.Time) string {
	if !utf8.Valid(line) {
		return "invalid UTF-8"
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m msg
	if err := d.Decode(&m); err != nil {
		return "invalid JSON: " + err.Error()
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	obj := func(v any) msg { o, _ := v.(msg); return o }
	id := str("messageId")
	if !uuidRE.MatchString(id) {
		return "messageId"
	}
	for _, k := range []string{"timestamp", "originalTimestamp", "sentAt", "receivedAt"} {
		if !tsRE.MatchString(str(k)) {
			return "bad " + k
		}
	}
	ts, _ := time.Parse(time.RFC3339Nano, str("timestamp"))
	if ts.Before(start) || !ts.Before(end) {
		return "timestamp outside the window"
	}
	sent, _ := time.Parse(time.RFC3339Nano, str("sentAt"))
	recv, _ := time.Parse(time.RFC3339Nano, str("receivedAt"))
	orig, _ := time.Parse(time.RFC3339Nano, str("originalTimestamp"))
	if !recv.After(ts) || !sent.After(orig) {
		return "sentAt/receivedAt not after timestamp"
	}
	if str("anonymousId") == "" && str("userId") == "" {
		return "neither anonymousId nor userId"
	}
	ctx := obj(m["context"])
	if ctx == nil || obj(ctx["library"])["name"] == nil {
		return "context.library"
	}
	props, traits := obj(m["properties"]), obj(m["traits"])
	switch str("type") {
	case "track":
		if str("event") == "" || props == nil {
			return "track without event/properties"
		}
	case "page":
		if props == nil || props["path"] == nil || props["url"] == nil || props["title"] == nil {
			return "page without path/url/title"
		}
		if obj(ctx["page"]) == nil {
			return "page without context.page"
		}
	case "screen":
		if str("name") == "" || obj(ctx["device"])["id"] == nil || obj(ctx["app"]) == nil {
			return "screen without name/device/app"
		}
	case "identify":
		if traits == nil {
			return "identify without traits"
		}
	case "group":
		if str("groupId") == "" || traits == nil {
			return "group without groupId/traits"
		}
	case "alias":
		if str("previousId") == "" || str("userId") == "" {
			return "alias without previousId/userId"
		}
	default:
		return "unknown type " + str("type")
	}
	return ""
}

func TestLinesAndTruth(t *testing.T) {
	o := Options{Persons: 3000, Seed: 7, BadRate: 0.01, DuplicateRate: 0.02, FileEvents: 20_000}
	s := gen1(t, o)
	start, end := DefaultEnd.AddDate(0, 0, -DefaultDays), DefaultEnd
	seen := map[string][]byte{} // messageId -> first good line
	var good, bad, dups int
	badKinds := map[string]int{}
	for _, l := range lines(t, s) {
		if why := checkGood(l, start, end); why != "" {
			bad++
			switch {
			case !utf8.Valid(l):
				badKinds["utf8"]++
			case bytes.Contains(l, []byte(`"timestamp":"not a date"`)):
				badKinds["timestamp"]++
			case bytes.HasPrefix(l, []byte(`{"type":"trak"`)):
				badKinds["type"]++
			case !json.Valid(l):
				badKinds["truncated"]++
			case !bytes.Contains(l, []byte(`"messageId"`)):
				badKinds["messageId"]++
			default:
				t.Errorf("unexpected bad line (%s): %s", why, l)
			}
			continue
		}
		var m struct{ MessageID string }
		json.Unmarshal(l, &m)
		if first, ok := seen[m.MessageID]; ok {
			if !bytes.Equal(first, l) {
				t.Errorf("messageId %s re-sent with a different payload", m.MessageID)
			}
			dups++
			continue
		}
		seen[m.MessageID] = l
		good++
	}
	if good != s.Events || bad != s.Bad || dups != s.Duplicates {
		t.Errorf("found good=%d bad=%d duplicates=%d, summary says %d/%d/%d", good, bad, dups, s.Events, s.Bad, s.Duplicates)
	}
	if len(badKinds) != 5 {
		t.Errorf("bad line kinds = %v, want all 5", badKinds)
	}
	total := float64(s.Lines())
	if r := float64(s.Bad) / total; r < 0.007 || r > 0.013 {
		t.Errorf("bad share %.4f, want about %.3f", r, o.BadRate)
	}
	if r := float64(s.Duplicates) / total; r < 0.015 || r > 0.025 {
		t.Errorf("duplicate share %.4f, want about %.3f", r, o.DuplicateRate)
	}
	if per := float64(s.Events) / float64(s.Persons); per < 10 || per > 22 {
		t.Errorf("%.1f events per person, want about 15", per)
	}

	truth := readTruth(t, s.TruthFile)
	if len(truth) != s.Events {
		t.Errorf("truth has %d rows, want %d", len(truth), s.Events)
	}
	persons := map[string]bool{}
	for _, r := range truth {
		if _, ok := seen[r[0]]; !ok {
			t.Fatalf("truth row %v is not a good event", r)
		}
		delete(seen, r[0]) // also catches duplicate rows
		persons[r[1]] = true
	}
	if len(seen) != 0 {
		t.Errorf("%d good events have no truth row", len(seen))
	}
	// Nearly every person produces events; ids are PersonID(i).
	if len(persons) < s.Persons*99/100 || !persons[PersonID(0)] || !persons[PersonID(s.Persons-1)] {
		t.Errorf("truth covers %d persons of %d", len(persons), s.Persons)
	}
}

// population parses a run into per-line records joined with the truth.
type event struct {
	person string
	m      msg
	raw    []byte
}

func population(t *testing.T, o Options) ([]event, Summary) {
	t.Helper()
	s := gen1(t, o)
	truth := map[string]string{}
	for _, r := range readTruth(t, s.TruthFile) {
		truth[r[0]] = r[1]
	}
	var evs []event
	for _, l := range lines(t, s) {
		var m msg
		if json.Unmarshal(l, &m) != nil {
			continue
		}
		id, _ := m["messageId"].(string)
		p, ok := truth[id]
		if !ok {
			continue
		}
		evs = append(evs, event{p, m, l})
	}
	return evs, s
}

func path(m msg, keys ...string) any {
	var v any = m
	for _, k := range keys {
		o, ok := v.(msg)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

func TestRealisticNoise(t *testing.T) {
	evs, s := population(t, Options{Persons: 4000, Seed: 3})
	str := func(v any) string { s, _ := v.(string); return s }

	anonPersons := map[string]map[string]bool{}
	userPersons := map[string]map[string]bool{}
	add := func(idx map[string]map[string]bool, k, p string) {
		if k == "" {
			return
		}
		if idx[k] == nil {
			idx[k] = map[string]bool{}
		}
		idx[k][p] = true
	}
	phones := map[string]map[string]bool{} // person -> raw phone strings
	types, events, currencies := map[string]int{}, map[string]int{}, map[string]int{}
	ordersPerPerson := map[string]int{}
	var emailOnly, testEmail, messyEmail, traitConsent, ctxConsent, withdrawn, revenue2dp int
	marketing := map[string]bool{}
	for _, e := range evs {
		m := e.m
		types[str(m["type"])]++
		events[str(m["event"])]++
		add(anonPersons, str(m["anonymousId"]), e.person)
		add(userPersons, str(m["userId"]), e.person)
		if ph := str(path(m, "traits", "phone")); ph != "" {
			if phones[e.person] == nil {
				phones[e.person] = map[string]bool{}
			}
			phones[e.person][ph] = true
		}
		email := str(path(m, "traits", "email"))
		if tr, ok := m["traits"].(msg); ok && m["type"] == "identify" && m["userId"] == nil && len(tr) == 1 && email != "" {
			emailOnly++
		}
		if email == placeholderEmail {
			testEmail++
		}
		if email != "" && (email != strings.TrimSpace(email) || email != strings.ToLower(email)) {
			messyEmail++
		}
		if c, ok := path(m, "traits", "consent", "marketing").(bool); ok {
			traitConsent++
			if !c && marketing[e.person] {
				withdrawn++
			}
			marketing[e.person] = c
		}
		if _, ok := path(m, "context", "consent", "categoryPreferences", "marketing").(bool); ok {
			ctxConsent++
		}
		if m["event"] == "Order Completed" {
			ordersPerPerson[e.person]++
			currencies[str(path(m, "properties", "currency"))]++
			if regexp.MustCompile(`"revenue":\d+\.\d\d,`).Match(e.raw) {
				revenue2dp++
			}
			if ps, _ := path(m, "properties", "products").([]any); len(ps) == 0 {
				t.Errorf("order without products: %s", e.raw)
			}
		}
		if ev := m["event"]; (ev == "Order Completed" || ev == "Checkout Started") && str(path(m, "properties", "order_id")) == "" {
			t.Errorf("%s without order_id: %s", ev, e.raw)
		}
	}
	for _, typ := range []string{"track", "identify", "page", "screen", "group", "alias"} {
		if types[typ] == 0 {
			t.Errorf("no %s calls", typ)
		}
	}
	for _, ev := range []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up", "Email Subscribed"} {
		if events[ev] == 0 {
			t.Errorf("no %q events", ev)
		}
	}
	if per := float64(len(evs)) / float64(s.Persons); per < 12 || per > 20 {
		t.Errorf("%.1f events per person, want about 15", per)
	}
	if n := len(anonPersons[placeholderAnonID]); n < 3 {
		t.Errorf("placeholder anonymousId used by %d persons, want several", n)
	}
	shared := 0
	for a, ps := range anonPersons {
		if a != placeholderAnonID && len(ps) > 1 {
			shared++
		}
	}
	if shared < s.Persons/100 {
		t.Errorf("%d browsers shared by two persons, want about 3%%", shared)
	}
	for _, u := range placeholderUserIDs {
		if len(userPersons[u]) < 2 {
			t.Errorf("placeholder userId %q used by %d persons", u, len(userPersons[u]))
		}
	}
	for u, ps := range userPersons {
		if !slices.Contains(placeholderUserIDs, u) && len(ps) != 1 {
			t.Errorf("real userId %s belongs to %d persons", u, len(ps))
		}
	}
	if emailOnly == 0 || testEmail == 0 || messyEmail == 0 {
		t.Errorf("email-only identifies %d, test@test.com %d, messy emails %d: want all > 0", emailOnly, testEmail, messyEmail)
	}
	if traitConsent == 0 || ctxConsent == 0 || withdrawn == 0 {
		t.Errorf("traits.consent %d, context.consent %d, withdrawals %d: want all > 0", traitConsent, ctxConsent, withdrawn)
	}
	if revenue2dp != events["Order Completed"] {
		t.Errorf("%d of %d orders have revenue with 2 decimals", revenue2dp, events["Order Completed"])
	}
	for _, c := range []string{"USD", "EUR", "GBP"} {
		if currencies[c] == 0 {
			t.Errorf("no orders in %s", c)
		}
	}
	buyers, maxOrders := len(ordersPerPerson), 0
	for _, n := range ordersPerPerson {
		maxOrders = max(maxOrders, n)
	}
	if buyers < s.Persons/6 || buyers > s.Persons/2 || maxOrders < 10 {
		t.Errorf("%d buyers of %d persons, max %d orders: want a share of buyers and a long tail", buyers, s.Persons, maxOrders)
	}

	// The same phone number in several formats for one person, US and UK.
	digits := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		return s[max(0, len(s)-9):]
	}
	multi := 0
	formats := map[string]bool{}
	for _, set := range phones {
		ds := map[string]bool{}
		for ph := range set {
			ds[digits(ph)] = true
			formats[regexp.MustCompile(`\d`).ReplaceAllString(ph, "9")] = true
		}
		if len(ds) != 1 {
			t.Errorf("one person, different phone numbers: %v", set)
		}
		if len(set) > 1 {
			multi++
		}
	}
	for _, f := range []string{"+9 999-999-9999", "(999) 999 9999", "9999999999", "+99999999999", "+99 9999 999999", "99999 999999"} {
		if !formats[f] {
			t.Errorf("phone format %q never appears (have %v)", f, formats)
		}
	}
	if multi == 0 {
		t.Error("no person has the same phone in several formats")
	}
}

func TestInterleavedAndOutOfOrder(t *testing.T) {
	evs, _ := population(t, Options{Persons: 1500, Seed: 9})
	backwards := 0
	runs := map[string]int{} // person -> number of separate runs of consecutive lines
	for i := range evs {
		if i == 0 || evs[i].person != evs[i-1].person {
			runs[evs[i].person]++
		}
		if i > 0 && evs[i].m["timestamp"].(string) < evs[i-1].m["timestamp"].(string) {
			backwards++
		}
	}
	split := 0
	for _, n := range runs {
		if n > 1 {
			split++
		}
	}
	if split < len(runs)/2 {
		t.Errorf("only %d of %d persons have their events in more than one place: files look grouped by person", split, len(runs))
	}
	if backwards == 0 {
		t.Error("timestamps are perfectly sorted; want some disorder")
	}
	// Within one person, several anonymousIds are tied to one userId by identify calls.
	anons := map[string]map[string]bool{}
	for _, e := range evs {
		if e.m["type"] == "identify" && e.m["userId"] != nil {
			u := e.m["userId"].(string)
			if anons[u] == nil {
				anons[u] = map[string]bool{}
			}
			if a, ok := e.m["anonymousId"].(string); ok {
				anons[u][a] = true
			}
		}
	}
	multi := 0
	for _, a := range anons {
		if len(a) > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no userId is identified from more than one anonymousId")
	}
}

func TestGzipMatchesPlain(t *testing.T) {
	o := Options{Persons: 2200, Seed: 5, FileEvents: 12_345, BadRate: 0.002, DuplicateRate: 0.002}
	plain := gen1(t, o)
	o.Gzip = true
	gz := gen1(t, o)
	if len(gz.Files) != len(plain.Files) || len(gz.Files) < 2 {
		t.Fatalf("gzip wrote %d files, plain %d", len(gz.Files), len(plain.Files))
	}
	for i, f := range gz.Files {
		if !strings.HasSuffix(f, ".ndjson.gz") {
			t.Errorf("gzip file name %s", f)
		}
		// One gzip member, readable by readers without multistream support.
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want, _ := os.ReadFile(plain.Files[i])
		if !bytes.Equal(got, want) {
			t.Errorf("%s does not decompress to %s", f, plain.Files[i])
		}
		if len(data)*3 > len(want) {
			t.Errorf("%s: %d compressed bytes for %d, want better than 3x", f, len(data), len(want))
		}
	}
}

func TestFileSplitting(t *testing.T) {
	dir := t.TempDir()
	// Leftovers of an earlier, larger run and an unrelated file.
	for _, n := range []string{"events-00099.ndjson", "events-00001.ndjson.gz", ".events-00003.ndjson.123.tmp", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, n), []byte("old\n"), 0o644)
	}
	s := gen1(t, Options{Persons: 300, Seed: 1, Out: dir, FileEvents: 1000, DuplicateRate: 0.01, BadRate: 0.01})
	want := (s.Lines() + 999) / 1000
	if len(s.Files) != want || want < 3 {
		t.Fatalf("%d files for %d lines, want %d", len(s.Files), s.Lines(), want)
	}
	total := 0
	for i, f := range s.Files {
		if filepath.Base(f) != EventFileName(i+1, false) {
			t.Errorf("file %d is %s", i, f)
		}
		n := bytes.Count(readFile(t, f), []byte("\n"))
		total += n
		if i < len(s.Files)-1 && n != 1000 {
			t.Errorf("%s has %d lines, want 1000", f, n)
		}
	}
	if total != s.Lines() {
		t.Errorf("%d lines in files, summary says %d", total, s.Lines())
	}
	var names []string
	for n := range readDir(t, dir) {
		names = append(names, n)
	}
	slices.Sort(names)
	wantNames := []string{"notes.txt", TruthFileName}
	for _, f := range s.Files {
		wantNames = append(wantNames, filepath.Base(f))
	}
	slices.Sort(wantNames)
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("directory after run (-want +got):\n%s", diff)
	}
}

func TestCancelLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	_, err := Events(ctx, Options{Persons: 20_000, Seed: 1, Out: dir, FileEvents: 5000, Progress: func(int) {
		calls++
		if calls == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if left := readDir(t, dir); len(left) != 0 {
		var names []string
		for n := range left {
			names = append(names, n)
		}
		t.Errorf("cancelled run left %v", names)
	}
}

func TestProgressAndZeroPersons(t *testing.T) {
	var got []int
	s := gen1(t, Options{Persons: 2500, Seed: 1, Progress: func(n int) { got = append(got, n) }})
	if diff := cmp.Diff([]int{1000, 2000, 2500}, got); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if s.Persons != 2500 || len(s.Files) != 1 {
		t.Errorf("summary %+v", s)
	}

	z := gen1(t, Options{Persons: 0, Seed: 1})
	if z.Events != 0 || len(z.Files) != 0 {
		t.Errorf("zero persons: %+v", z)
	}
	if rows := readTruth(t, z.TruthFile); len(rows) != 0 {
		t.Errorf("zero persons: truth has %d rows", len(rows))
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Persons: -1, Out: "x"},
		{Persons: 1},
		{Persons: 1, Out: "x", Days: -1},
		{Persons: 1, Out: "x", FileEvents: -5},
		{Persons: 1, Out: "x", BadRate: 1.5},
		{Persons: 1, Out: "x", DuplicateRate: -0.1},
	} {
		if _, err := Events(context.Background(), o); err == nil {
			t.Errorf("Events(%+v) succeeded", o)
		}
	}
}

func TestCustomWindow(t *testing.T) {
	end := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	s := gen1(t, Options{Persons: 200, Seed: 2, End: end, Days: 7})
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, s.Files[0])))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if why := checkGood(sc.Bytes(), end.AddDate(0, 0, -7), end); why != "" {
			t.Fatalf("%s: %s", why, sc.Bytes())
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "José Nguyễn 李 😀", "bad\xffutf8", "\u2028", "</script>"} {
		b := appendString(nil, s)
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Errorf("appendString(%q) = %s: not valid JSON", s, b)
			continue
		}
		var got string
		json.Unmarshal(b, &got)
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got != want {
			t.Errorf("appendString(%q) round-trips to %q", s, got)
		}
	}
}

func TestAppendTime(t *testing.T) {
	for _, ms := range []int64{0, 1, 999, 86_399_999, 951_782_400_000, 1_792_886_400_123, 4_102_444_799_999, DefaultEnd.UnixMilli() - 1} {
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(appendTime(nil, ms)); got != want {
			t.Errorf("appendTime(%d) = %s, want %s", ms, got, want)
		}
	}
	for i := int64(0); i < 200_000; i++ {
		ms := i * 15_485_863_917 % 4_000_000_000_000
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(appendTime(nil, ms)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", ms, got, want)
		}
	}
}

func TestAppendMoneyAndUUID(t *testing.T) {
	for cents, want := range map[int64]string{0: "0.00", 5: "0.05", 1230: "12.30", 123456: "1234.56", -250: "-2.50"} {
		if got := string(appendMoney(nil, cents)); got != want {
			t.Errorf("appendMoney(%d) = %s, want %s", cents, got, want)
		}
	}
	for i := range uint64(1000) {
		u := uuidString(splitmix64(i), splitmix64(^i))
		if !uuidRE.MatchString(u) {
			t.Fatalf("%s is not a version 4 UUID", u)
		}
	}
}
