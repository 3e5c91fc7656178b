package catalog

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryOptions are the go-containerregistry options of one operation.
// uai retries whole operations itself, with its own bounded backoff, so the
// library's own retries are off: both together would multiply the waits.
func registryOptions(ctx context.Context, rt http.RoundTripper, kc authn.Keychain) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(kc),
		remote.WithUserAgent("uai"),
		remote.WithRetryPredicate(func(error) bool { return false }),
		remote.WithRetryStatusCodes(),
		remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}),
	}
}

// registryError turns a go-containerregistry error about ref into one of
// this package's kinds, with a message that says what to do. what names the
// object ("image quay.io/x:1", "catalog oci://...").
func registryError(what string, ref name.Reference, timeout time.Duration, err error) error {
	if err == nil {
		return nil
	}
	reg := ref.Context().RegistryStr()
	var terr *transport.Error
	if errors.As(err, &terr) {
		codes := make([]transport.ErrorCode, 0, len(terr.Errors))
		for _, d := range terr.Errors {
			codes = append(codes, d.Code)
		}
		has := func(cs ...transport.ErrorCode) bool {
			return slices.ContainsFunc(codes, func(c transport.ErrorCode) bool { return slices.Contains(cs, c) })
		}
		detail := http.StatusText(terr.StatusCode)
		if len(codes) > 0 {
			detail = string(codes[0])
		}
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden || has(transport.UnauthorizedErrorCode, transport.DeniedErrorCode):
			return fmt.Errorf("%s: registry %s: %w (%d %s); if the image is private, log in (podman login %s writes the credentials uai reads: a docker config or REGISTRY_AUTH_FILE); if it is public, check the name, since registries answer this for names that do not exist too", what, reg, ErrUnauthorized, terr.StatusCode, detail, reg)
		case terr.StatusCode == http.StatusNotFound || has(transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode):
			return fmt.Errorf("%s %w in registry %s (%s); check the repository and the tag (skopeo list-tags docker://%s lists the tags)", what, ErrNotFound, reg, detail, ref.Context().Name())
		case terr.StatusCode == http.StatusTooManyRequests || terr.StatusCode >= 500 || has(transport.TooManyRequestsErrorCode, transport.UnavailableErrorCode):
			return fmt.Errorf("%s: registry %s %w: it answered %d %s; try again later", what, reg, ErrUnreachable, terr.StatusCode, detail)
		default:
			return fmt.Errorf("%s: registry %s %w: it answered %d %s, which uai does not expect (%v); check the reference", what, reg, errors.Join(ErrUnreachable, errPermanent), terr.StatusCode, detail, terr)
		}
	}
	if msg := err.Error(); strings.Contains(msg, "does not match requested digest") || strings.Contains(msg, "error verifying") {
		return fmt.Errorf("%s: registry %s sent content that does not hash to its digest: %w (%v); the registry or something between it and uai changed it: do not use it, and try again", what, reg, ErrDigestMismatch, err)
	}
	return netError(what+": registry "+reg, timeout, err)
}
