package sync

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cdp-dev/cdp/internal/destination"
	"github.com/cdp-dev/cdp/internal/progress"
)

// FormatPlan writes a plan for people, the way a Terraform plan reads: a header, one line per
// sample (+ add, ~ change with the fields that changed, - remove with why), the invalid rows,
// the guards it breaks, and the totals.
func FormatPlan(w io.Writer, p *Plan) {
	n := progress.Thousands
	fmt.Fprintf(w, "Sync %s: %s -> %s (%s)\n", p.Sync, p.Model, p.Destination, p.Mode)
	model := fmt.Sprintf("%s row(s)", n(p.ModelRows))
	if inv := p.Invalid.Rows(); inv > 0 {
		model += fmt.Sprintf(", %s invalid", n(inv))
	}
	if p.NoConsent > 0 {
		model += fmt.Sprintf(", %s without consent", n(p.NoConsent))
	}
	fmt.Fprintf(w, "Model: %s; snapshot: %s row(s) acknowledged\n", model, n(p.SnapshotRows))

	if len(p.Samples) > 0 {
		fmt.Fprintln(w)
		keyWidth := 0
		for _, s := range p.Samples {
			keyWidth = max(keyWidth, len(s.Key))
		}
		shown := map[destination.Action]int64{}
		flush := func(a destination.Action) {
			if more := p.Changes.Of(a) - shown[a]; more > 0 && shown[a] > 0 {
				fmt.Fprintf(w, "    ... and %s more to %s\n", n(more), a)
			}
		}
		var last destination.Action
		for _, s := range p.Samples {
			if last != "" && s.Action != last {
				flush(last)
			}
			last = s.Action
			shown[s.Action]++
			var detail string
			switch s.Action {
			case destination.Add:
				detail = formatFields(s.Fields)
			case destination.Change:
				detail = formatChange(s.Old, s.Fields)
			case destination.Remove:
				detail = "(" + s.Reason + ")"
			}
			fmt.Fprintf(w, "  %s %-6s  %-*s  %s\n", symbol(s.Action), s.Action, keyWidth, s.Key, detail)
		}
		if last != "" {
			flush(last)
		}
	}
	if inv := p.Invalid; inv.Rows() > 0 {
		var parts []string
		if inv.NullKeys > 0 {
			parts = append(parts, fmt.Sprintf("%s with a NULL key", n(inv.NullKeys)))
		}
		if inv.DuplicateKeys > 0 {
			parts = append(parts, fmt.Sprintf("%s rows share %s duplicate key(s)", n(inv.DuplicateRows), n(inv.DuplicateKeys)))
		}
		fmt.Fprintf(w, "\nInvalid rows, never sent: %s\n", strings.Join(parts, "; "))
		for _, d := range inv.Samples {
			fmt.Fprintf(w, "  duplicate key %s (%d rows)\n", d.Key, d.Rows)
		}
	}
	if len(p.Guards) > 0 {
		fmt.Fprintln(w)
		for _, g := range p.Guards {
			fmt.Fprintf(w, "! Guard %s: %s\n", g.Guard, g.Message)
		}
		fmt.Fprintln(w, "  cdp sync run refuses this plan without --force.")
	}
	fmt.Fprintln(w)
	if !p.HasChanges() {
		fmt.Fprintln(w, "No changes: the destination is up to date with the model.")
		return
	}
	fmt.Fprintf(w, "Plan: %s to add, %s to change, %s to remove.\n", n(p.Changes.Add), n(p.Changes.Change), n(p.Changes.Remove))
}

func symbol(a destination.Action) string {
	switch a {
	case destination.Add:
		return "+"
	case destination.Change:
		return "~"
	}
	return "-"
}

func formatValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func formatFields(m map[string]any) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+": "+formatValue(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// formatChange lists the fields that differ, old -> new.
func formatChange(old, cur map[string]any) string {
	all := map[string]any{}
	for k := range old {
		all[k] = nil
	}
	for k := range cur {
		all[k] = nil
	}
	var parts []string
	for _, k := range sortedKeys(all) {
		o, hadOld := old[k]
		c, hasNew := cur[k]
		os, cs := formatValue(o), formatValue(c)
		if !hadOld {
			os = "(none)"
		}
		if !hasNew {
			cs = "(none)"
		}
		if os != cs {
			parts = append(parts, k+": "+os+" -> "+cs)
		}
	}
	return strings.Join(parts, ", ")
}

// FormatResult writes one line summing up a run.
func FormatResult(w io.Writer, r *Result) {
	n := progress.Thousands
	switch r.Status {
	case StatusRefused:
		fmt.Fprintf(w, "%s: refused, nothing sent\n", r.Sync)
		return
	case StatusFailed:
		fmt.Fprintf(w, "%s: FAILED after %.1fs: %s added, %s changed, %s removed, %s rejected before it stopped\n",
			r.Sync, r.Seconds, n(r.Added), n(r.Changed), n(r.Removed), n(r.Rejected))
		return
	}
	if r.Plan != nil && !r.Plan.HasChanges() {
		fmt.Fprintf(w, "%s: up to date, nothing to send (%.1fs)\n", r.Sync, r.Seconds)
		return
	}
	fmt.Fprintf(w, "%s: %s added, %s changed, %s removed, %s rejected in %.1fs (%s rows/s)", r.Sync,
		n(r.Added), n(r.Changed), n(r.Removed), n(r.Rejected), r.Seconds, n(int64(r.RowsPerSecond)))
	var notes []string
	if r.Retried > 0 {
		notes = append(notes, fmt.Sprintf("%s retries", n(r.Retried)))
	}
	if r.Failed > 0 {
		notes = append(notes, fmt.Sprintf("%s row(s) left for the next run", n(r.Failed)))
	}
	if len(notes) > 0 {
		fmt.Fprintf(w, "; %s", strings.Join(notes, ", "))
	}
	fmt.Fprintln(w)
	for _, rj := range r.Rejections {
		fmt.Fprintf(w, "  rejected %s %s: %s\n", rj.Action, rj.Key, rj.Reason)
	}
	if more := r.Rejected - int64(len(r.Rejections)); more > 0 {
		fmt.Fprintf(w, "  ... and %s more rejected (see _cdp.sync_rejections)\n", n(more))
	}
}
