package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// Bar tracks progress towards a total (bytes, rows, models).
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	total    int64
	done     int64
	unit     Unit
	start    time.Time
	lastDraw time.Time
	drawn    bool
	// plain mode prints at most one line per interval
	interval time.Duration
}

// Unit formats amounts.
type Unit int

const (
	Count Unit = iota
	Bytes
)

// New starts a bar writing to w; on a non-terminal it prints a plain line every few seconds.
// A nil or io.Discard writer shows nothing.
func New(w io.Writer, label string, total int64, unit Unit) *Bar {
	if w == nil {
		w = io.Discard
	}
	return &Bar{w: w, tty: IsTerminal(w), label: label, total: total, unit: unit, start: time.Now(), interval: 5 * time.Second}
}

// SetLabel changes what the bar says it is doing (the current file, model, ...).
func (b *Bar) SetLabel(label string) {
	b.mu.Lock()
	b.label = label
	b.mu.Unlock()
}

// Set records the amount done so far.
func (b *Bar) Set(done int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	b.maybeDraw(false)
}

// Add adds to the amount done.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	b.maybeDraw(false)
}

// Println prints a line above the bar (a finished file, a warning).
func (b *Bar) Println(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
	fmt.Fprintf(b.w, format+"\n", args...)
	if b.tty && b.drawn {
		b.draw()
	}
}

// Finish clears the bar on a terminal.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

func (b *Bar) maybeDraw(force bool) {
	now := time.Now()
	every := 100 * time.Millisecond
	if !b.tty {
		every = b.interval
		if b.lastDraw.IsZero() {
			b.lastDraw = now // plain mode: first line after one interval, not at once
			return
		}
	}
	if !force && now.Sub(b.lastDraw) < every {
		return
	}
	b.lastDraw = now
	b.draw()
}

func (b *Bar) draw() {
	elapsed := time.Since(b.start).Seconds()
	rate := ""
	if elapsed > 0 {
		rate = b.format(int64(float64(b.done)/elapsed)) + "/s"
	}
	pct := ""
	bar := ""
	if b.total > 0 {
		frac := float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
		pct = fmt.Sprintf("%3.0f%%", frac*100)
		width := 24
		filled := int(frac * float64(width))
		bar = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] "
	}
	line := fmt.Sprintf("%s%s %s/%s %s  %s", bar, pct, b.format(b.done), b.format(b.total), rate, b.label)
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K"+line)
		b.drawn = true
		return
	}
	fmt.Fprintln(b.w, strings.TrimSpace(line))
}

func (b *Bar) format(n int64) string {
	if b.unit == Bytes {
		return HumanBytes(n)
	}
	return Thousands(n)
}

// HumanBytes renders 1536 as "1.5 KiB".
func HumanBytes(n int64) string {
	const k = 1024
	if n < k {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(k), 0
	for m := n / k; m >= k; m /= k {
		div *= k
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Thousands renders 1234567 as "1,234,567".
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
