package duckdb

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fileLock is an exclusive advisory lock on "<db>.lock", held for the life of the Warehouse.
type fileLock struct{ f *os.File }

// InUseError is returned when another process holds the warehouse.
type InUseError struct {
	Path   string
	Holder string // "pid 4242 (cdp run models)"
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("warehouse %s is in use by %s; wait for it to finish or stop it, then retry", e.Path, e.Holder)
}

func lockFile(dbPath, holder string) (*fileLock, error) {
	path := dbPath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		who := describeHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &InUseError{Path: dbPath, Holder: who}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if holder == "" {
		holder = "cdp"
	}
	// Written after the lock is ours, so a reader of a locked file sees the real holder (or, in a
	// tiny window, an empty file, which describeHolder reports generically).
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"+holder+"\n"), 0)
	}
	return &fileLock{f: f}, nil
}

func describeHolder(f *os.File) string {
	buf := make([]byte, 512)
	n, _ := f.ReadAt(buf, 0)
	lines := strings.SplitN(strings.TrimSpace(string(buf[:n])), "\n", 2)
	if len(lines) == 2 {
		return fmt.Sprintf("pid %s (%s)", lines[0], lines[1])
	}
	if len(lines) == 1 && lines[0] != "" {
		return "pid " + lines[0]
	}
	return "another process"
}

func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Empty the file first so nobody reads a stale holder; the lock itself dies with the fd.
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
