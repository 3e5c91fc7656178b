package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestErrorKinds: which kinds are the network's fault (exit 5, fallback
// for catalogs) and which are the input's (exit 2).
func TestErrorKinds(t *testing.T) {
	for _, c := range []struct {
		err        error
		dependency bool
	}{
		{ErrUnreachable, true},
		{ErrTimeout, true},
		{fmt.Errorf("image x: registry y %w: no answer", ErrTimeout), true},
		{withAttempts(fmt.Errorf("x %w: refused; retry", ErrUnreachable), 3), true},
		{ErrNotFound, false},
		{ErrUnauthorized, false},
		{ErrNotBootable, false},
		{ErrWrongArch, false},
		{ErrDigestMismatch, false},
		{ErrBadRef, false},
		{ErrBadSource, false},
		{ErrBadKey, false},
		{ErrUnsigned, false},
		{ErrUnknownKey, false},
		{ErrBadSignature, false},
		{ErrInvalid, false},
		{context.Canceled, false},
	} {
		if got := IsDependency(c.err); got != c.dependency {
			t.Errorf("IsDependency(%v) = %v", c.err, got)
		}
	}
	if !errors.Is(ErrTimeout, ErrUnreachable) || errors.Is(ErrUnreachable, ErrTimeout) {
		t.Error("a timeout must be unreachable, not the other way round")
	}
	e := withAttempts(fmt.Errorf("registry x %w: refused; check the network", ErrUnreachable), 3)
	if got := e.Error(); got != "registry x unreachable: refused (tried 3 times); check the network" {
		t.Errorf("withAttempts: %q", got)
	}
}
