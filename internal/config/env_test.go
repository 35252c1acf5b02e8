package config

import "testing"

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "x", "E": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct{ in, want, wantErr string }{
		{"plain", "plain", ""},
		{"${A}", "x", ""},
		{"${A}${A}-$A", "xx-$A", ""},
		{"${B:-d}", "d", ""},
		{"${B:-}", "", ""},
		{"${E}", "", ""},
		{"${E:-d}", "d", ""},
		{"$$", "$", ""},
		{"$${A}", "${A}", ""},
		{"cost $5", "cost $5", ""},
		{"end$", "end$", ""},
		{"${B}", "", "environment variable B is not set; export it or write ${B:-default}"},
		{"${", "", `unterminated ${ in "${"; close it with } or write $$ for a literal $`},
		{"${}", "", `invalid environment variable name "" in ${}; use letters, digits and _, or write $$ for a literal $`},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, lookup)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("expand(%q) error = %v, want %s", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
