package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{10: "10 B", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPlainModePrintsLinesNotCarriageReturns(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "events.ndjson", 100, Count)
	b.interval = time.Millisecond
	b.Set(10)
	time.Sleep(2 * time.Millisecond)
	b.Set(50)
	b.Println("done %s", "x")
	b.Finish()
	out := buf.String()
	if strings.Contains(out, "\r") {
		t.Errorf("plain output has carriage returns: %q", out)
	}
	if !strings.Contains(out, " 50%") || !strings.Contains(out, "events.ndjson") || !strings.Contains(out, "done x\n") {
		t.Errorf("unexpected output %q", out)
	}
}
