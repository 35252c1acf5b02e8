package generate

import (
	"bytes"
	"math/rand/v2"
	"slices"
)

// chunkPersons is how many persons one work unit generates. It is fixed (not derived from the
// number of CPUs) because the output order and the noise RNG depend on it.
const chunkPersons = 1000

// chunk is the finished output of one work unit, in file order.
type chunk struct {
	index      int
	persons    int
	out        []byte  // NDJSON lines
	lineEnds   []int32 // end offset (after '\n') of each line in out
	truth      []byte  // truth.csv rows of the good events, in file order
	events     int
	bad        int
	duplicates int
	err        error
}

// Kinds of deliberately bad lines, cycled through.
const (
	badTruncated = iota
	badUTF8
	badNoMessageID
	badTimestamp
	badType
	numBadKinds
)

type pendingDup struct {
	at  int // emit before good event number at
	ref evRef
}

// generateChunk generates persons [first, first+n) and assembles their lines into c, whose
// buffers are reused.
func (g *gen) generateChunk(o *Options, c *chunk, index, first, n int) {
	g.reset()
	for i := 0; i < n; i++ {
		g.person(first+i, int32(i))
	}
	*c = chunk{index: index, persons: n, out: c.out[:0], lineEnds: c.lineEnds[:0], truth: c.truth[:0]}
	evs := g.evs
	// Order by receivedAt (how a collector writes files), so a chunk's persons interleave. The
	// sort key packs receivedAt (ms since the window start) above the event's index.
	keys := g.keys[:0]
	for i, e := range evs {
		keys = append(keys, uint64(e.key-g.start+keyOffset)<<keyShift|uint64(i))
	}
	slices.Sort(keys)
	g.keys = keys
	nr := rand.New(rand.NewPCG(mix(g.seed, uint64(index), 0xC4), mix(g.seed, uint64(index), 0xC5)))
	// A little disorder on top: pipelines reorder nearby lines.
	for i := range keys {
		if nr.IntN(100) == 0 {
			j := i + 1 + nr.IntN(40)
			if j < len(keys) {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}

	c.out = slices.Grow(c.out, len(g.buf)+len(g.buf)/16)
	c.lineEnds = slices.Grow(c.lineEnds, len(evs)+len(evs)/16)
	c.truth = slices.Grow(c.truth, len(evs)*47)
	var pending []pendingDup
	badKind := index % numBadKinds
	emit := func(line []byte) {
		c.out = append(c.out, line...)
		c.lineEnds = append(c.lineEnds, int32(len(c.out)))
	}
	for i, k := range keys {
		e := evs[k&(1<<keyShift-1)]
		for k := 0; k < len(pending); {
			if pending[k].at <= i {
				d := pending[k].ref
				emit(g.buf[d.start:d.end])
				c.duplicates++
				pending = append(pending[:k], pending[k+1:]...)
				continue
			}
			k++
		}
		line := g.buf[e.start:e.end]
		emit(line)
		c.events++
		c.truth = append(c.truth, g.buf[e.msgOff:e.msgOff+36]...)
		c.truth = append(c.truth, ',')
		c.truth = appendPersonID(c.truth, first+int(e.person))
		c.truth = append(c.truth, '\n')
		if o.DuplicateRate > 0 && nr.Float64() < o.DuplicateRate {
			pending = append(pending, pendingDup{at: i + 1 + nr.IntN(200), ref: e})
		}
		if o.BadRate > 0 && nr.Float64() < o.BadRate {
			c.out = appendBad(c.out, line, e.msgOff-e.start, badKind, nr)
			c.lineEnds = append(c.lineEnds, int32(len(c.out)))
			c.bad++
			badKind = (badKind + 1) % numBadKinds
		}
	}
	for _, d := range pending {
		emit(g.buf[d.ref.start:d.ref.end])
		c.duplicates++
	}
}

// Sort keys: receivedAt relative to the window start (plus keyOffset, for clock skew) in the high
// 40 bits (34 years of milliseconds), the event index in the low 24 bits.
const (
	keyShift  = 24
	keyOffset = 3_600_000
	// maxDays keeps receivedAt within the 40 bits of a sort key.
	maxDays = 10_000
)

// appendPersonID appends the truth id of a person: p0000042.
func appendPersonID(b []byte, idx int) []byte {
	b = append(b, 'p')
	return appendPadded(b, uint64(idx), 7)
}

// PersonID returns the id truth.csv uses for the person with index idx (0-based).
func PersonID(idx int) string { return string(appendPersonID(nil, idx)) }

// appendBad appends a deliberately broken copy of the good line (which ends in '\n'). The copy
// gets a fresh messageId so it never collides with a good event.
func appendBad(b, line []byte, msgOff int32, kind int, r *rand.Rand) []byte {
	start := len(b)
	b = append(b, line...)
	l := b[start:]
	appendUUID(l[msgOff:msgOff], r.Uint64(), r.Uint64(), false) // overwrite in place
	switch kind {
	case badTruncated:
		cut := len(l) / 2
		for cut > 1 && l[cut-1] >= 0x80 { // cut on an ASCII byte: this line is only broken JSON
			cut--
		}
		b = b[:start+cut]
	case badUTF8:
		b = b[:len(b)-2] // drop "}\n"
		b = append(b, ",\"comment\":\"caf\xc3\x28 \xff\xfe\"}"...)
	case badNoMessageID:
		const field = len(`"messageId":"`)
		from := start + int(msgOff) - field
		to := start + int(msgOff) + 36 + 2 // value, closing quote and comma
		b = append(b[:from], b[to:]...)
		return b // still ends in '\n'
	case badTimestamp:
		i := bytes.Index(l, []byte(`"timestamp":"`))
		if i >= 0 {
			v := start + i + len(`"timestamp":"`)
			tail := append([]byte(nil), b[v+24:]...)
			b = append(b[:v], "not a date"...)
			b = append(b, tail...)
		}
		return b
	case badType:
		const prefix = len(`{"type":"`)
		end := bytes.IndexByte(l[prefix:], '"')
		tail := append([]byte(nil), l[prefix+end:]...)
		b = append(b[:start+prefix], "trak"...)
		b = append(b, tail...)
		return b
	}
	return append(b, '\n')
}
