package generate

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// gzipLevel trades size for speed: benchmarks generate gigabytes.
const gzipLevel = flate.BestSpeed

// segment is a run of whole lines that goes to one file.
type segment struct {
	file    int
	data    []byte
	release *chunk // set on the chunk's last segment: recycle it once written
	// gzip only: the segment is deflated on its own goroutine with the previous 32 KiB of the
	// same file as dictionary and ends with a sync flush, so the segments of a file concatenate
	// into one ordinary deflate stream (the technique of pigz).
	dict []byte
	done chan struct{}
	z    []byte
	err  error
}

func (s *segment) compress() {
	var buf bytes.Buffer
	buf.Grow(len(s.data)/4 + 1024)
	fw, err := flate.NewWriterDict(&buf, gzipLevel, s.dict)
	if err == nil {
		_, err = fw.Write(s.data)
	}
	if err == nil {
		err = fw.Flush()
	}
	s.z, s.err = buf.Bytes(), err
}

// writer writes segments, in order, to event files.
type writer struct {
	run    *run
	cancel context.CancelCauseFunc
	files  []string

	cur   int // current file number, 0 = none open
	f     *os.File
	bw    *bufio.Writer
	crc   uint32
	size  uint32
	final string
}

func (w *writer) loop(ctx context.Context, segs <-chan *segment) error {
	var err error
	for s := range segs {
		if err != nil {
			continue // drain
		}
		if err = ctx.Err(); err != nil {
			continue
		}
		if err = w.write(s); err != nil {
			err = fmt.Errorf("generate: %w", err)
			w.cancel(err)
			continue
		}
		if s.release != nil {
			w.run.putChunk(s.release)
		}
	}
	if err == nil && ctx.Err() == nil && w.cur != 0 {
		if err = w.finish(); err != nil {
			err = fmt.Errorf("generate: %w", err)
		}
	}
	if w.f != nil { // failed or cancelled: the temporary file is removed by run.cleanup
		w.f.Close()
	}
	return err
}

func (w *writer) write(s *segment) error {
	gz := w.run.o.Gzip
	if s.file != w.cur {
		if w.cur != 0 {
			if err := w.finish(); err != nil {
				return err
			}
		}
		if err := w.open(s.file); err != nil {
			return err
		}
	}
	if !gz {
		_, err := w.bw.Write(s.data)
		return err
	}
	<-s.done
	if s.err != nil {
		return s.err
	}
	w.crc = crc32.Update(w.crc, crc32.IEEETable, s.data)
	w.size += uint32(len(s.data)) // ISIZE is the size modulo 2^32
	_, err := w.bw.Write(s.z)
	return err
}

func (w *writer) open(n int) error {
	name := EventFileName(n, w.run.o.Gzip)
	f, err := os.CreateTemp(w.run.o.Out, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	w.run.addTemp(f.Name())
	w.f, w.cur, w.final = f, n, filepath.Join(w.run.o.Out, name)
	w.crc, w.size = 0, 0
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, 1<<20)
	} else {
		w.bw.Reset(f)
	}
	if w.run.o.Gzip {
		// RFC 1952 header: deflate, no flags, no mtime, XFL 4 (fastest), OS unknown.
		_, err = w.bw.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255})
	}
	return err
}

func (w *writer) finish() error {
	if w.run.o.Gzip {
		var t [10]byte
		t[0], t[1] = 0x03, 0x00 // final, empty, fixed-Huffman block
		binary.LittleEndian.PutUint32(t[2:], w.crc)
		binary.LittleEndian.PutUint32(t[6:], w.size)
		if _, err := w.bw.Write(t[:]); err != nil {
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	f := w.f
	w.f = nil
	if err := f.Close(); err != nil {
		return err
	}
	if err := w.run.commit(f.Name(), w.final); err != nil {
		return err
	}
	w.files = append(w.files, w.final)
	w.cur = 0
	return nil
}
