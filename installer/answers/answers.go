// Package answers reads answer files (TOML, version 1): strict parsing with
// line and column for every problem, then validation into a report.
package answers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Version is the only answer-file version this build reads.
const Version = 1

// Answers is an answer file. The minimal v1 of the walking skeleton:
// source, disk, storage and confirmation.
type Answers struct {
	Version int     `toml:"version"`
	Source  Source  `toml:"source"`
	Disk    Disk    `toml:"disk"`
	Storage Storage `toml:"storage"`
	// Confirm must be true for an unattended run to write a disk.
	Confirm bool `toml:"confirm"`
	// ExpectPlanSHA256 optionally pins the plan the run must make.
	ExpectPlanSHA256 string `toml:"expect_plan_sha256"`
}

// Source says what to install.
type Source struct {
	// Edition is a catalog edition id; Image is any bootc image ref.
	// Exactly one is set.
	Edition string `toml:"edition"`
	Image   string `toml:"image"`
	// TargetRef overrides what the installed system updates from.
	TargetRef string `toml:"target_ref"`
}

// Disk says where to install.
type Disk struct {
	Path string `toml:"path"`
	// Wipe allows erasing a disk that holds data.
	Wipe bool `toml:"wipe"`
	// PreserveOnError keeps a half-written disk for inspection instead of
	// wiping the new table after a failure.
	PreserveOnError bool `toml:"preserve_on_error"`
}

// Storage says how to lay the disk out.
type Storage struct {
	// Filesystem of root: xfs, ext4 or btrfs; empty means the edition's default.
	Filesystem string `toml:"filesystem"`
}

// Problem is one thing wrong with an answer file.
type Problem struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Key is the dotted TOML key ("disk.path"), when known.
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Report collects every problem of a file, not just the first.
type Report struct {
	Problems []Problem `json:"problems"`
}

// OK reports whether there are no problems.
func (r *Report) OK() bool { return r == nil || len(r.Problems) == 0 }

// Err returns the report as an error, or nil when OK.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return r
}

func (r *Report) Error() string {
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "answer file: " + lines[0]
	}
	return fmt.Sprintf("answer file has %d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// Load reads and parses an answer file. A file that cannot be read is an
// error; everything wrong inside it is in the report.
func Load(path string) (*Answers, *Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read answer file: %w", err)
	}
	a, rep := Parse(data)
	for i := range rep.Problems {
		rep.Problems[i].File = path
	}
	return a, rep, nil
}

// Parse decodes data strictly (unknown keys and wrong types are problems
// with line:column) and validates the result.
func Parse(data []byte) (*Answers, *Report) {
	rep := &Report{}
	var a Answers
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			for _, e := range strict.Errors {
				row, col := e.Position()
				key := strings.Join(e.Key(), ".")
				rep.add(Problem{Line: row, Column: col, Key: key,
					Message: fmt.Sprintf("unknown key %q; remove it or check its spelling (see docs/answers.md)", key)})
			}
			// The known keys decoded fine: go on validating them so the
			// user sees every problem in one run.
		case errors.As(err, &de):
			row, col := de.Position()
			rep.add(Problem{Line: row, Column: col, Key: strings.Join(de.Key(), "."), Message: tomlMessage(de)})
			return nil, rep
		default:
			rep.add(Problem{Message: err.Error()})
			return nil, rep
		}
	}
	a.validate(rep)
	sort.SliceStable(rep.Problems, func(i, j int) bool { return rep.Problems[i].Line < rep.Problems[j].Line })
	return &a, rep
}

// typeMismatch matches go-toml's type error, whose Go struct names mean
// nothing to the author of an answer file.
var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)

func tomlMessage(de *toml.DecodeError) string {
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	if m := typeMismatch.FindStringSubmatch(msg); m != nil {
		want := map[string]string{"string": "a string", "bool": "true or false", "int": "a whole number"}[m[2]]
		if want == "" {
			want = m[2]
		}
		return fmt.Sprintf("expected %s, found a TOML %s; change the value's type", want, m[1])
	}
	return msg + "; fix the TOML syntax (see docs/answers.md)"
}

var filesystems = map[string]bool{"xfs": true, "ext4": true, "btrfs": true}

func (a *Answers) validate(rep *Report) {
	if a.Version != Version {
		rep.add(Problem{Key: "version", Message: fmt.Sprintf("version is %d; this uai reads version = %d (add `version = 1` at the top)", a.Version, Version)})
	}
	switch {
	case a.Source.Edition == "" && a.Source.Image == "":
		rep.add(Problem{Key: "source", Message: "say what to install: set source.edition to a catalog id (uai catalog list) or source.image to a bootc image ref"})
	case a.Source.Edition != "" && a.Source.Image != "":
		rep.add(Problem{Key: "source", Message: "source.edition and source.image are both set; keep one"})
	}
	if a.Disk.Path == "" {
		rep.add(Problem{Key: "disk.path", Message: "no target disk; set disk.path (a /dev path, a /dev/disk/by-id link, or a disk image file), see `uai disks`"})
	}
	if a.Storage.Filesystem != "" && !filesystems[a.Storage.Filesystem] {
		rep.add(Problem{Key: "storage.filesystem", Message: fmt.Sprintf("filesystem %q is not supported; use xfs, ext4 or btrfs", a.Storage.Filesystem)})
	}
	if h := a.ExpectPlanSHA256; h != "" && !isHex64(h) {
		rep.add(Problem{Key: "expect_plan_sha256", Message: fmt.Sprintf("%q is not a sha256 (64 hex digits); copy it from `uai plan --answers FILE`", h)})
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
