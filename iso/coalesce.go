package iso

import (
	"fmt"
	"os"

	"github.com/diskfs/go-diskfs/backend"
)

// coalescing is the backend go-diskfs writes the ISO through. go-diskfs
// copies file data in 2048-byte WriteAt calls; gathering consecutive ones
// into 4 MiB writes saves most of the system calls of a build.
type coalescing struct {
	*os.File
	buf []byte
	off int64 // where buf goes
}

const coalesceSize = 4 << 20

var _ backend.Storage = (*coalescing)(nil)

func newCoalescing(f *os.File) *coalescing {
	return &coalescing{File: f, buf: make([]byte, 0, coalesceSize)}
}

func (c *coalescing) Sys() (*os.File, error)                  { return c.File, nil }
func (c *coalescing) Writable() (backend.WritableFile, error) { return c, nil }
func (c *coalescing) Path() string                            { return c.File.Name() }

func (c *coalescing) WriteAt(p []byte, off int64) (int, error) {
	if len(c.buf) > 0 && (off != c.off+int64(len(c.buf)) || len(c.buf)+len(p) > cap(c.buf)) {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	if len(p) >= cap(c.buf) {
		return c.File.WriteAt(p, off)
	}
	if len(c.buf) == 0 {
		c.off = off
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// ReadAt sees what was written: pending bytes go to the file first.
func (c *coalescing) ReadAt(p []byte, off int64) (int, error) {
	if err := c.Flush(); err != nil {
		return 0, err
	}
	return c.File.ReadAt(p, off)
}

// Flush writes the pending bytes.
func (c *coalescing) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.File.WriteAt(c.buf, c.off)
	c.buf = c.buf[:0]
	if err != nil {
		return fmt.Errorf("write the ISO: %w", err)
	}
	return nil
}
