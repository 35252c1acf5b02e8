package generate

import (
	"context"
	"testing"
)

// BenchmarkEvents generates 10k persons (about 150k events) per iteration and reports events/s.
func BenchmarkEvents(b *testing.B) {
	dir := b.TempDir()
	var events int
	for b.Loop() {
		s, err := Events(context.Background(), Options{Persons: 10_000, Seed: 1, Out: dir, BadRate: 0.001, DuplicateRate: 0.001})
		if err != nil {
			b.Fatal(err)
		}
		events += s.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(events)/float64(b.N)/10_000, "events/person")
}

// BenchmarkChunk measures generation alone (one worker, no I/O).
func BenchmarkChunk(b *testing.B) {
	o := Options{Seed: 1, Out: "x", BadRate: 0.001, DuplicateRate: 0.001}
	o, _ = o.withDefaults()
	g := newGen(1, DefaultEnd.UnixMilli()-90*86_400_000, DefaultEnd.UnixMilli())
	var events int
	i := 0
	for b.Loop() {
		c := new(chunk)
		g.generateChunk(&o, c, i, i*chunkPersons, chunkPersons)
		events += c.events
		i++
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
