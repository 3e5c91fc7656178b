package installer

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestExitCodesAreDistinctAndStable(t *testing.T) {
	// These numbers are an interface (docs/exit-codes.md): changing one
	// breaks every harness that reads them.
	want := map[Class]int{
		ClassInternal: 1, ClassInvalidInput: 2, ClassDiskRefused: 3, ClassEnvironment: 4,
		ClassDependency: 5, ClassInstallFailed: 6, ClassAborted: 7, ClassNotConfirmed: 8,
	}
	seen := map[int]Class{}
	for c, code := range want {
		if got := c.ExitCode(); got != code {
			t.Errorf("%s exits %d, want %d", c, got, code)
		}
		if other, dup := seen[code]; dup {
			t.Errorf("%s and %s share exit code %d", c, other, code)
		}
		seen[code] = c
		if c.String() == "unknown" {
			t.Errorf("class %d has no name", c)
		}
	}
}

func TestClassOf(t *testing.T) {
	inner := Errorf(ClassDiskRefused, "pick another", "disk %s is mounted", "/dev/sda")
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("plain"), 1},
		{inner, 3},
		{fmt.Errorf("resolve: %w", inner), 3},
		{Classify(ClassInstallFailed, inner), 3},     // Classify keeps the first class
		{&Error{Class: ClassAborted, Err: inner}, 7}, // a deliberate re-class wins
		{Classify(ClassInstallFailed, errors.New("mkfs failed")), 6},
		{fmt.Errorf("step: %w", context.Canceled), 7},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	if got := inner.Error(); got != "disk /dev/sda is mounted; pick another" {
		t.Errorf("message %q", got)
	}
}
