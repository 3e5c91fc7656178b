package catalog

import "errors"

// Error kinds. Every error from Open, ResolveImage and the functions they
// use wraps exactly one of these (ErrTimeout also counts as ErrUnreachable),
// so a caller picks an exit code or a screen with errors.Is and shows
// Error(), which names the object and says the fix. The texts are phrases
// that read inside those messages: "image X not found in ...".
var (
	// ErrBadSource: a --catalog value is not a path, https://, file:// or
	// oci:// location.
	ErrBadSource = errors.New("invalid catalog source")
	// ErrBadKey: a --catalog-key value is not a minisign public key.
	ErrBadKey = errors.New("invalid catalog key")
	// ErrUnsigned: a remote catalog has no signature and
	// Options.Insecure is off.
	ErrUnsigned = errors.New("not signed")
	// ErrBadSignature: the signature is not one, or it was made by a
	// trusted key over different bytes (the catalog or the signature was
	// changed after signing).
	ErrBadSignature = errors.New("signature does not verify")
	// ErrUnknownKey: the catalog is signed by a key uai does not trust.
	ErrUnknownKey = errors.New("signed by a key uai does not trust")

	// ErrBadRef: an image reference is not fully qualified or not valid.
	ErrBadRef = errors.New("invalid image reference")
	// ErrNotFound: a catalog, repository, tag or digest does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNotBootable: the image lacks the labels that mark a bootc image.
	ErrNotBootable = errors.New("not bootable")
	// ErrWrongArch: the image is not published for the wanted
	// architecture.
	ErrWrongArch = errors.New("not built for this architecture")
	// ErrDigestMismatch: content does not hash to the digest it was asked
	// by, or a pinned digest is not the one a reference names.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnauthorized: the registry or server refused access (a private
	// image without credentials; registries also say this for names that
	// do not exist).
	ErrUnauthorized = errors.New("access denied")

	// ErrUnreachable: the network or the server failed: no route, refused
	// or dropped connections, 5xx answers, bad TLS. Retrying may help;
	// catalogs fall back to a cached or the embedded copy on it.
	ErrUnreachable = errors.New("unreachable")
	// ErrTimeout: no complete answer within the time allowed. It is also
	// ErrUnreachable.
	ErrTimeout error = &kindError{text: "timed out", parent: ErrUnreachable}
)

// kindError is a sentinel that also matches a more general one.
type kindError struct {
	text   string
	parent error
}

func (k *kindError) Error() string        { return k.text }
func (k *kindError) Is(target error) bool { return target == k.parent }

// IsDependency is true for errors caused by the network or a remote service
// (ErrUnreachable, ErrTimeout), where retrying later may help. Every other
// error from this package is about the input: a source, a key, a catalog,
// an image reference, or the image itself.
func IsDependency(err error) bool { return errors.Is(err, ErrUnreachable) }
