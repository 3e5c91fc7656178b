package iso

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// PXE is what ExtractPXE wrote.
type PXE struct {
	Kernel  string   `json:"kernel"`
	Initrd  string   `json:"initrd"`
	Rootfs  string   `json:"rootfs,omitempty"`
	Answers string   `json:"answers,omitempty"`
	Kargs   []string `json:"kargs"`
	// KargsFile holds Kargs on one line.
	KargsFile string `json:"kargs_file"`
}

// ExtractPXE copies the kernel, initrd and (when there is one) rootfs of
// the ISO into dir for network boot, with the kernel arguments the ISO's
// boot loaders pass (the editable ones; uai.live.label is left out, since
// a network-booted system has no medium to find) and the embedded answer
// file, which a PXE boot cannot read from the ISO.
func (im *Image) ExtractPXE(dir string) (*PXE, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	kargs, err := im.Kargs()
	if err != nil {
		return nil, err
	}
	out := &PXE{Kargs: kargs}
	for _, c := range []struct {
		src      string
		dst      *string
		optional bool
	}{
		{PathKernel, &out.Kernel, false},
		{PathInitrd, &out.Initrd, false},
		{PathRootfs, &out.Rootfs, true},
	} {
		sr, _, err := im.vol.Open(c.src)
		if errors.Is(err, isofs.ErrNotFound) && c.optional {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: /%s: %w", im.name, c.src, err)
		}
		p := filepath.Join(dir, filepath.Base(c.src))
		if err := copyOut(sr, p); err != nil {
			return nil, err
		}
		*c.dst = p
	}
	answers, err := im.Answers()
	switch {
	case err == nil:
		out.Answers = filepath.Join(dir, "answers.toml")
		if err := os.WriteFile(out.Answers, answers, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", out.Answers, err)
		}
	case errors.Is(err, ErrNoAnswers):
	default:
		return nil, err
	}
	out.KargsFile = filepath.Join(dir, "kargs")
	if err := os.WriteFile(out.KargsFile, []byte(strings.Join(kargs, " ")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", out.KargsFile, err)
	}
	return out, nil
}

func copyOut(r io.Reader, p string) error {
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	return f.Close()
}
