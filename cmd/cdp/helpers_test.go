package main

import (
	"testing"
)

// The script commands are test code too: make sure jsonval's assertions can fail.
func TestJSONAssertions(t *testing.T) {
	doc, err := decodeJSON(`{"loaded": 3, "rows": 5, "s": "2.5", "name": "x", "n": null,
		"per_file": [{"status": "skipped"}], "TruthFile": "data/truth.csv"}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		assertion string
		ok        bool
	}{
		{"loaded=3", true},
		{"loaded=4", false},
		{"loaded!=4", true},
		{"loaded>2", true},
		{"loaded>3", false},
		{"loaded+rows=8", true},
		{"loaded+rows=7", false},
		{"loaded+name=3", false},
		{"s=2.5", false},
		{`s="2.5"`, true},
		{"name=x", true},
		{`name="x"`, true},
		{"name=y", false},
		{"n=null", true},
		{"n=", false},
		{"per_file.0.status=skipped", true},
		{"per_file.1.status=skipped", false},
		{"truth_file=data/truth.csv", true},
		{"nosuch=1", false},
		{"loaded", false},
	} {
		err := checkJSON(doc, tt.assertion)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok = %v", tt.assertion, err, tt.ok)
		}
	}
	if _, err := decodeJSON(`{"a": 1} {"b": 2}`); err == nil {
		t.Error("two JSON values decoded as one document")
	}
	if _, err := decodeJSON(`[{"a": 1},]`); err == nil {
		t.Error("invalid JSON decoded")
	}
}
