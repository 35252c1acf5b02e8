package config

import "testing"

func TestSuggest(t *testing.T) {
	keys := []string{"name", "target", "targets", "model-paths", "sources"}
	tests := []struct{ word, want string }{
		{"tagret", "target"},
		{"targts", "targets"},
		{"model_paths", "model-paths"},
		{"Name", "name"},
		{"sourcse", "sources"},
		{"zzz", ""},
		{"vars", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.word, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"", "abc", 3}, {"tagret", "target", 1},
		{"kitten", "sitting", 3}, {"type", "tyep", 1},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
