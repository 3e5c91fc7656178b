package installer

import (
	"context"
	"errors"
	"fmt"
)

// Class groups errors by who must act, and decides the process exit code.
type Class int

// The error classes. Their exit codes are documented in docs/exit-codes.md
// and must never change meaning.
const (
	ClassInternal      Class = iota + 1 // a bug in uai
	ClassInvalidInput                   // answer file, flag, catalog or image ref is wrong
	ClassDiskRefused                    // the disk is not safe or not fit to install to
	ClassEnvironment                    // a program, privilege or device the run needs is missing
	ClassDependency                     // a network service or registry failed
	ClassInstallFailed                  // a step failed after the run started changing the disk
	ClassAborted                        // cancelled by the user or a signal
	ClassNotConfirmed                   // the plan was made but nobody confirmed it
)

var classNames = map[Class]string{
	ClassInternal:      "internal",
	ClassInvalidInput:  "invalid-input",
	ClassDiskRefused:   "disk-refused",
	ClassEnvironment:   "environment",
	ClassDependency:    "dependency",
	ClassInstallFailed: "install-failed",
	ClassAborted:       "aborted",
	ClassNotConfirmed:  "not-confirmed",
}

// String is the stable name used in events and the result record.
func (c Class) String() string {
	if n, ok := classNames[c]; ok {
		return n
	}
	return "unknown"
}

// ExitCode is the process exit code for the class.
func (c Class) ExitCode() int {
	switch c {
	case ClassInvalidInput:
		return 2
	case ClassDiskRefused:
		return 3
	case ClassEnvironment:
		return 4
	case ClassDependency:
		return 5
	case ClassInstallFailed:
		return 6
	case ClassAborted:
		return 7
	case ClassNotConfirmed:
		return 8
	}
	return 1
}

// Error is an error with a class and, where there is one, the fix.
type Error struct {
	Class Class
	Err   error
	// Fix tells the user what to do, in one sentence.
	Fix string
}

func (e *Error) Error() string {
	if e.Fix != "" {
		return fmt.Sprintf("%v; %s", e.Err, e.Fix)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes a classed error; the format follows fmt.Errorf (so %w wraps).
func Errorf(c Class, fix string, format string, args ...any) error {
	return &Error{Class: c, Err: fmt.Errorf(format, args...), Fix: fix}
}

// Classify wraps err in class c unless it already carries a class.
func Classify(c Class, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Class: c, Err: err}
}

// ClassOf returns the class of err: the outermost classed error wins
// (Classify never re-classes, so the first class given sticks unless a
// caller deliberately wraps with a new Error), cancellation is Aborted,
// anything unclassed is Internal.
func ClassOf(err error) Class {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	if errors.Is(err, context.Canceled) {
		return ClassAborted
	}
	return ClassInternal
}

// ExitCode maps err to the process exit code; nil is 0.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	return ClassOf(err).ExitCode()
}
